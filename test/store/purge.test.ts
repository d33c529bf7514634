// Purge everywhere (issue #15 part 4): the purge log in R2 and the check every colo makes
// before serving its Cache API pointer. "Another colo" purges here by deleting the R2
// copy and recording the purge without touching this colo's Cache API, which is all a
// purge in another colo can do to this one.
import { env } from "cloudflare:workers";
import { createExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { CacheTier } from "../../src/store/cache-tier";
import { PURGE_LOG_KEY, purgedSince, readPurgeLog, recordPurge, type PurgeLog } from "../../src/store/purge-log";
import { purgePath, purgePrefix } from "../../src/store/purge";
import { R2Tier } from "../../src/store/r2-tier";
import { Store } from "../../src/store/store";
import { putFile, stats, uniquePath } from "../support/origin";
import { eventually, streamSha256 } from "../support/node";

const bucket = (env as unknown as Env).STORE;
const colo = new CacheTier(caches.default);

/** One env object per "isolate": the node keeps its purge-log copy per env. */
function isolate(vars: Record<string, string>): (path: string) => Promise<Response> {
  const e = { ...(env as object), REVALIDATE_SECONDS: "31536000", ...vars } as unknown as Env;
  return async (path) => worker.fetch(new Request(`http://node.test${path}`, { headers: { "cf-connecting-ip": "198.51.100.61" } }), e, createExecutionContext());
}

/** Requests until this colo serves `path` from its own pointer (learnt in the background after an R2 hit). */
async function untilColoHit(fetch: (p: string) => Promise<Response>, path: string): Promise<void> {
  await eventually(async () => {
    const r = await fetch(path);
    await r.arrayBuffer();
    return (r.headers.get("cache-status") ?? "").includes("detail=cache-api");
  });
}

/** What another colo's purge does: R2 copy gone, purge recorded; this colo's cache untouched. */
async function purgeElsewhere(match: string, prefix: boolean): Promise<void> {
  const r2 = new R2Tier(bucket);
  if (!prefix) await r2.purge(match);
  else for (const o of (await bucket.list({ prefix: `meta${match}` })).objects) await r2.purge(o.key.slice(4));
  await recordPurge(bucket, { match, prefix });
}

describe("purge log", () => {
  const log: PurgeLog = { gen: 7, floor: 2, entries: [{ gen: 5, match: "/a/file.iso", prefix: false }, { gen: 7, match: "/rel/1.2/", prefix: true }] };
  it.each([
    ["a pointer stamped with the current generation", "/a/file.iso", 7, false],
    ["an exact purge after the stamp", "/a/file.iso", 4, true],
    ["an exact purge takes the keyed query variants", "/a/file.iso?v=1", 4, true],
    ["an exact purge does not take a longer name", "/a/file.iso2", 4, false],
    ["an exact purge before the stamp", "/a/file.iso", 5, false],
    ["a prefix purge after the stamp", "/rel/1.2/x.iso", 6, true],
    ["a path outside every entry", "/rel/1.3/x.iso", 3, false],
    ["a stamp below the floor: the log cannot vouch", "/other", 1, true],
    ["a stamp above the log (lost log)", "/other", 9, true],
  ])("%s", (_what, key, stamp, purged) => {
    expect(purgedSince(log, key, stamp)).toBe(purged);
  });

  it("concurrent purges each get their own generation; one entry per target; the oldest dropped past the limit raise the floor", async () => {
    const before = await readPurgeLog(bucket);
    const gens = await Promise.all(["/c/1", "/c/2", "/c/3", "/c/4"].map((m) => recordPurge(bucket, { match: m, prefix: false })));
    expect(new Set(gens).size).toBe(4);
    expect(Math.min(...gens)).toBe(before.gen + 1);
    const again = await recordPurge(bucket, { match: "/c/1", prefix: false });
    const after = await readPurgeLog(bucket);
    expect(after.gen).toBe(again);
    expect(after.entries.filter((e) => e.match === "/c/1")).toEqual([{ gen: again, match: "/c/1", prefix: false }]);
    for (let i = 0; i < 260; i++) await recordPurge(bucket, { match: `/trim/${i}`, prefix: false });
    const trimmed = await readPurgeLog(bucket);
    expect(trimmed.entries.length).toBe(256);
    expect(trimmed.floor).toBeGreaterThan(after.gen);
    expect(purgedSince(trimmed, "/never-purged", after.gen)).toBe(true);
  });

  it("an unreadable log is never trusted and refuses purges until repaired", async () => {
    const saved = await (await bucket.get(PURGE_LOG_KEY))?.text();
    try {
      await bucket.put(PURGE_LOG_KEY, "{not json");
      const log = await readPurgeLog(bucket);
      expect(purgedSince(log, "/x", 0)).toBe(true);
      await expect(recordPurge(bucket, { match: "/x", prefix: false })).rejects.toThrow(/unreadable/);
    } finally {
      if (saved === undefined) await bucket.delete(PURGE_LOG_KEY);
      else await bucket.put(PURGE_LOG_KEY, saved);
    }
  });
});

describe("colo pointers after a purge in another colo", () => {
  it("PURGE_CHECK_SECONDS=0: the very next request refills from the origin instead of serving the colo copy", async () => {
    const path = uniquePath("purge-now.bin");
    const file = await putFile(path, 3000, { seed: 71 });
    const node = isolate({ PURGE_CHECK_SECONDS: "0" });
    expect(await streamSha256(await node(path))).toEqual({ sha256: file.sha256, bytes: 3000 });
    await untilColoHit(node, path);
    expect((await stats(path)).gets).toBe(1);

    await purgeElsewhere(path, false);
    // This colo still holds the pointer and the bytes: only the log can stop it.
    expect(await colo.pointer(path)).not.toBeNull();
    const res = await node(path);
    expect(res.headers.get("cache-status")).toMatch(/fwd=miss/);
    expect(await streamSha256(res)).toEqual({ sha256: file.sha256, bytes: 3000 });
    expect((await stats(path)).gets).toBe(2);
    // The refilled copy is learnt again and served from this colo.
    await untilColoHit(node, path);
    expect((await stats(path)).gets).toBe(2);
  });

  it("default PURGE_CHECK_SECONDS (2): a prefix purge stops this colo's copies within the bound, other prefixes untouched", async () => {
    const dir = `${uniquePath("rel")}/`;
    const inside = `${dir}a.bin`;
    const outside = `${uniquePath("keep")}.bin`;
    await putFile(inside, 2000, { seed: 72 });
    await putFile(outside, 2000, { seed: 73 });
    const node = isolate({});
    for (const p of [inside, outside]) {
      await (await node(p)).arrayBuffer();
      await untilColoHit(node, p);
    }
    await purgeElsewhere(dir, true);
    const purgedAt = Date.now();
    const refilled = await eventually(async () => {
      const r = await node(inside);
      await r.arrayBuffer();
      return (r.headers.get("cache-status") ?? "").includes("fwd=miss") ? Date.now() : undefined;
    });
    expect(refilled - purgedAt).toBeLessThan(2000 + 1000);
    expect((await stats(inside)).gets).toBe(2);
    const kept = await node(outside);
    await kept.arrayBuffer();
    expect(kept.headers.get("cache-status")).toContain("detail=cache-api");
    expect((await stats(outside)).gets).toBe(1);
  });
});

describe("admin purges (store side)", () => {
  const adminStore = () => new Store(bucket, caches.default, { cacheMaxBytes: 0, waitUntil: () => {} });

  it("a prefix purge takes at most 100 copies per call and says more remain; an empty prefix is null and records nothing", async () => {
    const dir = `${uniquePath("many")}/`;
    const r2 = new R2Tier(bucket);
    for (let i = 0; i < 105; i++) await bucket.put(`meta${dir}f${i}`, "", { customMetadata: { meta: JSON.stringify({ key: `${dir}f${i}`, version: "v", length: 0, etag: '"e"', lastModified: null, contentType: null, cacheControl: null, sha256: "", storedAt: 1 }) } });
    const first = await purgePrefix(adminStore(), bucket, dir);
    expect(first).toMatchObject({ prefix: dir, purged: 100, more: true });
    const second = await purgePrefix(adminStore(), bucket, dir);
    expect(second).toMatchObject({ purged: 5, more: false });
    expect(second!.generation).toBeGreaterThan(first!.generation);
    expect(await r2.meta(`${dir}f3`)).toBeNull();
    const gen = (await readPurgeLog(bucket)).gen;
    expect(await purgePrefix(adminStore(), bucket, dir)).toBeNull();
    expect((await readPurgeLog(bucket)).gen).toBe(gen);
  });

  it("a path purge takes its keyed-query variants and is recorded even when nothing was stored", async () => {
    const path = uniquePath("q.bin");
    const meta = (key: string) => ({ meta: JSON.stringify({ key, version: "v", length: 0, etag: '"e"', lastModified: null, contentType: null, cacheControl: null, sha256: "", storedAt: 1 }) });
    for (const k of [path, `${path}?a=1`, `${path}?b=2`, `${path}x`]) await bucket.put(`meta${k}`, "", { customMetadata: meta(k) });
    expect(await purgePath(adminStore(), bucket, path)).toMatchObject({ path, stored: true, purged: 3 });
    expect(await bucket.head(`meta${path}x`)).not.toBeNull();
    const again = await purgePath(adminStore(), bucket, path);
    expect(again).toMatchObject({ stored: false, purged: 0 });
    expect((await readPurgeLog(bucket)).entries.at(-1)).toEqual({ gen: again.generation, match: path, prefix: false });
  });
});
