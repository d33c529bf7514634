// When a complete fill becomes visible, over what, and what happens to the bytes it
// replaces: the R2 pointer is written once per version, never over a pointer written by
// someone else meanwhile, and replaced bytes outlive the downloads still reading them.
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { chunkKey, manifestKey, metaKey, versionKeys } from "../../src/store/layout";
import { R2Tier } from "../../src/store/r2-tier";
import { alarmAt, atTime } from "./clock";
import { active, allEvents, bucket, LEASE_MS, pointer, sha, Version } from "./fixture";

const GRACE_MS = 3600_000;

async function exist(keys: string[]): Promise<boolean[]> {
  return Promise.all(keys.map(async (k) => (await bucket.head(k)) !== null));
}

describe("commit: the pointer is written once, with the whole-file SHA-256", () => {
  it("a fill completed out of order stays invisible until its hash pass answers; a pass that went silent is asked of the next joiner", async () => {
    const v = Version.fresh("v1", 4096, 1024);
    const t0 = Date.now();
    const tail = active(await v.join({ start: 3072, end: 4095 }));
    expect(await v.fillLease(tail.fill, tail.lease!)).toEqual({ ok: true, held: false });
    const rest = active(await v.join());
    expect(rest.lease).toMatchObject({ next: 0, end: 3 });
    expect(await v.fillLease(rest.fill, rest.lease!)).toEqual({ ok: true, held: false, hashPass: true });
    // No pointer without its SHA-256 (a second write within a second would follow).
    expect(await pointer(v.key)).toBeNull();

    // Joiners meanwhile read the stored chunks; the pass is not asked twice while it may answer.
    const during = active(await v.join());
    expect(during).toMatchObject({ lease: null, hashPass: false });
    expect([...during.stored]).toEqual([1, 1, 1, 1]);
    // Its Worker ended before it answered: after its time, the next joiner runs it.
    const later = active(await atTime(t0 + LEASE_MS + 60_000, () => v.join()));
    expect(later.hashPass).toBe(true);
    await Promise.all([tail, rest, during, later].map((j) => j.progress.cancel()));

    await v.stub.hashed(rest.fill, sha("9"));
    expect(await pointer(v.key)).toMatchObject({ version: "v1", fill: rest.fill, sha256: sha("9") });
    const manifest = JSON.parse(await (await bucket.get(manifestKey(v.key, "v1", rest.fill)))!.text());
    expect(manifest).toMatchObject({ sha256: sha("9"), chunks: [sha("a"), sha("a"), sha("a"), sha("a")] });
    const written = (await bucket.head(metaKey(v.key)))!.uploaded.getTime();
    // The other pass answering late writes nothing.
    await v.stub.hashed(rest.fill, sha("9"));
    expect((await bucket.head(metaKey(v.key)))!.uploaded.getTime()).toBe(written);
    expect(await v.join()).toMatchObject({ kind: "stored" });
  });

  it("a purge after completion is not undone by a late hash pass or a late chunk", async () => {
    const v = Version.fresh("v1", 2048, 1024);
    const a = active(await v.join({ start: 1024, end: 2047 }));
    await v.fillLease(a.fill, a.lease!);
    const b = active(await v.join());
    await v.fillLease(b.fill, b.lease!);
    await v.stub.hashed(b.fill, sha("9"));
    expect(await pointer(v.key)).toMatchObject({ fill: b.fill });
    await new R2Tier(bucket).purge(v.key);

    await v.stub.hashed(b.fill, sha("9"));
    expect(await v.report(b.fill, a.lease!.id, 2, 1)).toEqual({ ok: true, held: false });
    expect(await pointer(v.key)).toBeNull();
    await Promise.all([a, b].map((j) => j.progress.cancel()));
  });
});

describe("commit: never over a version committed meanwhile", () => {
  it("a fill that completes after another version was committed leaves that one visible; its followers still finish, its chunks go after the grace period", async () => {
    const v1 = Version.fresh("v1");
    const v2 = v1.next("v2");
    const a = active(await v1.join());
    const follower = active(await v1.join());
    expect(follower.lease).toBeNull();
    // The origin changed meanwhile; a node saw v2, filled and committed it.
    const b = active(await v2.join());
    await v2.fillLease(b.fill, b.lease!, { wholeSha256: sha("2") });
    expect(await pointer(v1.key)).toMatchObject({ version: "v2", fill: b.fill });

    expect(await v1.fillLease(a.fill, a.lease!, { wholeSha256: sha("1") })).toMatchObject({ ok: true });
    expect(await pointer(v1.key)).toMatchObject({ version: "v2", fill: b.fill, sha256: sha("2") });
    expect(await allEvents(follower.progress)).toContainEqual({ t: "done" });

    const v1Chunks = [0, 1, 2, 3].map((i) => chunkKey(v1.key, "v1", a.fill, i));
    const v2Chunks = [0, 1, 2, 3].map((i) => chunkKey(v2.key, "v2", b.fill, i));
    expect(await exist(v1Chunks)).toEqual([true, true, true, true]);
    await alarmAt(v1.stub, Date.now() + GRACE_MS + 1000);
    expect(await exist(v1Chunks)).toEqual([false, false, false, false]);
    expect(await exist(v2Chunks)).toEqual([true, true, true, true]);
    await Promise.all([a, b].map((j) => j.progress.cancel()));
  });
});

describe("commit: over the pointer the fill began with, never over one written meanwhile", () => {
  it("a fill begun over v1's pointer does not replace v2, committed while it ran (each pointer has its own etag)", async () => {
    const v1 = Version.fresh("v1");
    const a = active(await v1.join());
    await v1.fillLease(a.fill, a.lease!, { wholeSha256: sha("1") });
    const v3 = v1.next("v3");
    const c = active(await v3.join());
    const v2 = v1.next("v2");
    const b = active(await v2.join());
    await v2.fillLease(b.fill, b.lease!, { wholeSha256: sha("2") });
    await v3.fillLease(c.fill, c.lease!, { wholeSha256: sha("3") });
    expect(await pointer(v1.key)).toMatchObject({ version: "v2", fill: b.fill });
    await Promise.all([a, b, c].map((j) => j.progress.cancel()));
  });
});

describe("commit: a first join may bring the pointer its node read (JoinRequest.pointer)", () => {
  const etagOf = async (key: string) => (await bucket.head(metaKey(key)))!.etag;

  it("commits over that pointer only: right, the version becomes visible; moved on since, the newer version stays", async () => {
    const v1 = Version.fresh("v1");
    const a = active(await v1.join(null, undefined, { pointer: { etag: null } }));
    await v1.fillLease(a.fill, a.lease!, { wholeSha256: sha("1") });
    expect(await pointer(v1.key)).toMatchObject({ version: "v1", fill: a.fill });
    const seenV1 = await etagOf(v1.key);

    const v2 = v1.next("v2");
    const b = active(await v2.join(null, undefined, { pointer: { etag: seenV1 } }));
    await v2.fillLease(b.fill, b.lease!, { wholeSha256: sha("2") });
    expect(await pointer(v1.key)).toMatchObject({ version: "v2", fill: b.fill });

    // A node that read v1's pointer before v2 was committed starts v3 with it: v3's
    // commit may not replace v2, which it never saw.
    const v3 = v1.next("v3");
    const c = active(await v3.join(null, undefined, { pointer: { etag: seenV1 } }));
    await v3.fillLease(c.fill, c.lease!, { wholeSha256: sha("3") });
    expect(await pointer(v1.key)).toMatchObject({ version: "v2", fill: b.fill });
    await Promise.all([a, b, c].map((j) => j.progress.cancel()));
  });
});

describe("commit: the replaced version's bytes are deleted after a grace period", () => {
  it("v2 replaces v1: v1's chunks and manifest stay for downloads in progress, and go from v2's alarm an hour later; a purge stays immediate", async () => {
    const v1 = Version.fresh("v1");
    const v2 = v1.next("v2");
    const a = active(await v1.join());
    await v1.fillLease(a.fill, a.lease!, { wholeSha256: sha("1") });
    const old = (await pointer(v1.key))!;
    expect(old).toMatchObject({ version: "v1", fill: a.fill });

    const b = active(await v2.join());
    await v2.fillLease(b.fill, b.lease!, { wholeSha256: sha("2") });
    const current = (await pointer(v1.key))!;
    expect(current).toMatchObject({ version: "v2", fill: b.fill });
    const oldKeys = versionKeys(old);
    expect(await exist(oldKeys)).toEqual(oldKeys.map(() => true));

    // Not before the grace period...
    await alarmAt(v2.stub, Date.now() + GRACE_MS / 2);
    expect(await exist(oldKeys)).toEqual(oldKeys.map(() => true));
    // ...then gone, while the current version stays whole.
    await alarmAt(v2.stub, Date.now() + GRACE_MS + 1000);
    expect(await exist(oldKeys)).toEqual(oldKeys.map(() => false));
    const currentKeys = versionKeys(current);
    expect(await exist(currentKeys)).toEqual(currentKeys.map(() => true));

    await new R2Tier(bucket).purge(v2.key);
    expect(await exist(currentKeys)).toEqual(currentKeys.map(() => false));
    await Promise.all([a, b].map((j) => j.progress.cancel()));
  });
});

describe("commit: a failure is retried", () => {
  it("a commit R2 refuses does not leave followers waiting, and is tried again from the alarm", async () => {
    // R2 refuses a pointer whose custom metadata exceeds its limit (8 KiB): every commit throws.
    const v = new Version(`/coord/${crypto.randomUUID()}.bin`, "v1", 4096, 1024, `application/x-${"y".repeat(9000)}`);
    const a = active(await v.join());
    const follower = active(await v.join());
    expect(await v.fillLease(a.fill, a.lease!, { wholeSha256: sha("1") })).toMatchObject({ ok: true, held: false });
    expect(await allEvents(follower.progress)).toContainEqual({ t: "done" });
    expect(await pointer(v.key)).toBeNull();

    // The manifest is written before the pointer: its upload time shows each attempt.
    const manifest = manifestKey(v.key, "v1", a.fill);
    const first = (await bucket.head(manifest))!.uploaded.getTime();
    const alarm = await runInDurableObject(v.stub, (_o, state) => state.storage.getAlarm());
    expect(alarm).not.toBeNull();
    expect(alarm!).toBeLessThanOrEqual(Date.now() + LEASE_MS);
    await new Promise((r) => setTimeout(r, 5));
    // The retry is due FILL_STALL_SECONDS after the failure.
    expect(await alarmAt(v.stub, Date.now() + LEASE_MS + 1000)).toBe(true);
    expect((await bucket.head(manifest))!.uploaded.getTime()).toBeGreaterThan(first);
    // Still complete for joiners: they read the chunks, nobody fetches from the origin.
    const late = active(await v.join());
    expect(late.lease).toBeNull();
    expect([...late.stored]).toEqual([1, 1, 1, 1]);
    await Promise.all([a, late].map((j) => j.progress.cancel()));
  });
});
