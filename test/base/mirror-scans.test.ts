// Issue #14 parts 1 and 2: the Cron scans the mirrors (HEAD batches with a cursor, or the
// mirror's checksum list) and disables a mirror lagging beyond the limits until a full
// rescan finds it within them. Real mirrors (the repo's static origin on other ports).
import { env } from "cloudflare:workers";
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import worker from "../../src/base-index";
import type { ScanRequest } from "../../src/mirrors/scan";
import { copiesOf } from "../../src/mirrors/inventory";
import { putFile, uniquePath } from "../support/origin";
import { listed } from "./mirrors/catalog-support";
import { mirrorDown, mirrorStats, mirrorUp, namedUrls, putOnMirror, putTextOnMirror, realMirrorUrl, settledFetch } from "./mirror-support";

const SIZE = 150_000;
const MTIME = 1_700_000_000;
const DATE = new Date(MTIME * 1000).toUTCString();
const testEnv = env as unknown as Env;
const inventory = () => testEnv.MIRROR_INVENTORY.get(testEnv.MIRROR_INVENTORY.idFromName("inventory"));
/** The mirror's own copies object: its verdicts, the files asked of it, its scans. */
const copies = (id: string) => copiesOf(testEnv, id);
const checks = { timeoutMs: 3000, verdictSeconds: 300, recheckSeconds: 60 };
const scans = { scanMinutes: 60, batch: 50, concurrency: 4, listMaxBytes: 1 << 20, maxLagFiles: 0, maxLagSeconds: 0 };
const uid = () => crypto.randomUUID().slice(0, 8);

/** The admin's rescan of a scanned mirror, named in the catalog's seed as MIRRORS would name it. */
async function rescan(m: ScanRequest["mirrors"][number]): Promise<void> {
  const seed = [{ id: m.id, url: m.url, kind: "mirror" as const, weight: 1, prefixes: m.prefixes, healthPath: "/", ...(m.scanUrl ? { scanUrl: m.scanUrl } : {}) }];
  expect(await inventory().rescan({ seed, who: "test" }, m.id)).toMatchObject({ ok: true });
}

/** A client asked mirror `id` for this version of the file: its copies object knows the file from now on. */
async function known(id: string, path: string, sha256: string | null = null): Promise<void> {
  await copies(id).check({ path, origin: { size: SIZE, lastModified: DATE, etag: null, sha256 }, mirrors: [], ...checks });
}

/** One Cron run of the base with these vars, as Cloudflare fires it. */
async function cron(vars: Record<string, string>): Promise<void> {
  const ctx = createExecutionContext();
  worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "* * * * *" }), { ...(env as object), ...vars } as unknown as Env, ctx);
  await waitOnExecutionContext(ctx);
}

afterEach(async () => {
  for (const i of [0, 1, 2]) await mirrorUp(i);
});

describe("mirror scans (issue #14 part 1)", () => {
  it("HEADs every known file the mirror is meant to hold, a bounded batch per run, resuming at a cursor", async () => {
    const dir = uniquePath("");
    const files = ["a", "b", "c", "d", "e"].map((n) => `${dir}${n}.iso`);
    const id = `head-${uid()}`;
    for (const f of files) await known(id, f);
    await known(id, uniquePath("elsewhere.iso")); // outside the mirror's prefix: never scanned
    await putOnMirror(0, files[0]!, SIZE, { mtime: MTIME });
    await putOnMirror(0, files[1]!, SIZE, { mtime: MTIME + 60 });
    await putOnMirror(0, files[2]!, SIZE + 1, { mtime: MTIME }); // other size
    await putOnMirror(0, files[3]!, SIZE, { mtime: MTIME - 3600 }); // older
    // files[4]: missing
    const mirror = { id, url: realMirrorUrl(0), originEtags: false, prefixes: [dir] };
    const req: ScanRequest = { mirrors: [mirror], scans: { ...scans, batch: 2 }, checks };

    const outcomes = [];
    for (let run = 0; run < 4; run++) outcomes.push(...(await copies(id).scan(req)).map((r) => [r.checked, r.outcome]));
    expect(outcomes).toEqual([[2, "pass continued"], [2, "pass continued"], [1, "pass ended"], [0, "skipped: not due"]]);
    for (const f of files) expect((await mirrorStats(0, f)).heads).toBe(1);

    // The scans' verdicts stand for the redirect path: asking again costs the mirror nothing.
    const verdicts = await Promise.all(files.map(async (f) => (await copies(id).check({ path: f, origin: { size: SIZE, lastModified: DATE, etag: null, sha256: null }, mirrors: [mirror], ...checks }))[id]!.verdict));
    expect(verdicts).toEqual(["current", "current", "outdated", "outdated", "missing"]);
    for (const f of files) expect((await mirrorStats(0, f)).heads).toBe(1);
    const state = (await copies(id).mirrorStates())[id]!;
    expect(state).toMatchObject({ disabled: false, lagFiles: 3, cursor: null, errors: 0 });
    expect(state.oldestLagSince).toBeGreaterThan(0);
  });

  it("reads the mirror's checksum list (conditionally on later passes); HEADs the files whose SHA-256 the origin does not tell", async () => {
    const dir = uniquePath("");
    const [same, other, unlisted, noDigest] = ["same", "other", "unlisted", "nodigest"].map((n) => `${dir}${n}.iso`);
    const sha = (c: string) => c.repeat(64);
    const id = `list-${uid()}`;
    await known(id, same!, sha("1"));
    await known(id, other!, sha("2"));
    await known(id, unlisted!, sha("3"));
    await known(id, noDigest!);
    await putOnMirror(2, noDigest!, SIZE, { mtime: MTIME });
    const listPath = `${dir}SHA256SUMS`;
    await putTextOnMirror(2, listPath, `${sha("1")}  .${same}\n${sha("f")}  .${other}\nnot a line\n`);
    const mirror = { id, url: realMirrorUrl(2), originEtags: false, prefixes: [`${dir}`], scanUrl: `${realMirrorUrl(2)}${listPath}` };
    const req: ScanRequest = { mirrors: [mirror], scans, checks };

    expect((await copies(id).scan(req))[0]).toMatchObject({ checked: 4, outcome: "pass ended" });
    const judged = async (path: string) => (await copies(id).check({ path, origin: { size: SIZE, lastModified: DATE, etag: null, sha256: null }, mirrors: [mirror], ...checks }))[id];
    // (check() with sha256 null keys the same version: the version key is size, date and ETag.)
    expect(await judged(same!)).toMatchObject({ verdict: "current", detail: "same SHA-256 in the checksum list" });
    expect(await judged(other!)).toMatchObject({ verdict: "outdated", detail: "other SHA-256 in the checksum list" });
    expect(await judged(unlisted!)).toMatchObject({ verdict: "missing", detail: "not in the checksum list" });
    expect(await judged(noDigest!)).toMatchObject({ verdict: "current", detail: "same size, not older" });
    for (const f of [same, other, unlisted]) expect((await mirrorStats(2, f!)).heads).toBe(0);
    expect((await mirrorStats(2, noDigest!)).heads).toBe(1);

    // A rescan asks for the list again with its validators: the mirror answers 304.
    await rescan(req.mirrors[0]!);
    expect((await copies(id).scan(req))[0]).toMatchObject({ outcome: "pass ended" });
    const list = await mirrorStats(2, listPath);
    expect(list.gets).toBe(2);
    expect(list.conditional304s).toBe(1);
  });

  it("a list over MIRROR_SCAN_LIST_MAX_BYTES is an error, not a truncated list", async () => {
    const dir = uniquePath("");
    const id = `big-${uid()}`;
    await known(id, `${dir}x.iso`, "1".repeat(64));
    await putTextOnMirror(2, `${dir}SUMS`, `${"1".repeat(64)}  x.iso\n`.repeat(40));
    const mirror = { id, url: realMirrorUrl(2), originEtags: false, prefixes: [dir], scanUrl: `${realMirrorUrl(2)}${dir}SUMS` };
    const [r] = await copies(id).scan({ mirrors: [mirror], scans: { ...scans, listMaxBytes: 1024 }, checks });
    expect(r!.outcome).toBe("skipped: checksum list: longer than 1024 bytes (MIRROR_SCAN_LIST_MAX_BYTES)");
    expect((await copies(id).mirrorStates())[id]).toMatchObject({ errors: 1, lastError: "checksum list: longer than 1024 bytes (MIRROR_SCAN_LIST_MAX_BYTES)" });
  });

  it("a mirror that does not answer is left alone with a growing back-off; a rescan forgets it", async () => {
    const dir = uniquePath("");
    const id = `down-${uid()}`;
    for (const n of ["a", "b", "c"]) await known(id, `${dir}${n}.iso`);
    const req: ScanRequest = { mirrors: [{ id, url: realMirrorUrl(1), originEtags: false, prefixes: [dir] }], scans: { ...scans, concurrency: 1 }, checks };
    await mirrorDown(1);
    expect((await copies(id).scan(req))[0]).toMatchObject({ checked: 0, outcome: "pass paused: the mirror does not answer" });
    const [skipped] = await copies(id).scan(req);
    expect(skipped!.outcome).toMatch(/^skipped: backing off until .* \(does not answer\)$/);
    expect((await copies(id).mirrorStates())[id]).toMatchObject({ errors: 1, lastError: "does not answer" });
    await mirrorUp(1);
    await rescan(req.mirrors[0]!);
    expect((await copies(id).scan(req))[0]).toMatchObject({ checked: 3, outcome: "pass ended" });
    expect((await copies(id).mirrorStates())[id]).toMatchObject({ errors: 0, lagFiles: 3 });
  });
});

describe("lag policy (issue #14 part 2)", () => {
  it("the Cron disables a mirror lagging beyond MIRROR_MAX_LAG_FILES for every file, and enables it after a full rescan within the limit", async () => {
    const dir = uniquePath("");
    const [held, a, b] = ["held", "a", "b"].map((n) => `${dir}${n}.iso`) as [string, string, string];
    for (const f of [held, a, b]) await putFile(f, SIZE, { mtime: MTIME });
    await putOnMirror(1, held, SIZE, { mtime: MTIME });
    const id = `lag-${uid()}`;
    const base = { OFFLOAD_NODES: "", MIRRORS: JSON.stringify([{ id, url: realMirrorUrl(1), prefixes: [dir] }]), MIRROR_MAX_LAG_FILES: "1" };
    // A fresh env per step: a new isolate's view, so the test does not wait out the catalog view's 5 s.
    const fresh = (step: string) => ({ ...base, TEST_STEP: step });

    for (const f of [held, a, b]) await settledFetch(fresh("1"), f);
    expect((await settledFetch(fresh("1"), held)).headers.get("location")).toBe(`${realMirrorUrl(1)}${held}`);

    await cron(base);
    expect((await copies(id).mirrorStates())[id]).toMatchObject({ disabled: true, reason: "lagging: 2 files outdated or missing (limit 1)", lagFiles: 2 });
    // The admin's mirror list says so (part 6: lag, last scan, last error), while the admin's own switch stays on.
    const shown = (await listed(base)).mirrors.find((m) => m.id === id);
    expect(shown).toMatchObject({ enabled: true, scan: { lagging: true, reason: "lagging: 2 files outdated or missing (limit 1)", lagFiles: 2, lastError: "" } });
    expect(shown!.scan!.scannedAt).toBeGreaterThan(0);
    await settledFetch(fresh("2"), held);
    const off = await settledFetch(fresh("2"), held);
    expect(off.status).toBe(200); // no node, the only mirror disabled: the base serves it
    expect(namedUrls(off)).toEqual([]);

    // The mirror catches up; the next Cron run rescans it in full and enables it.
    await putOnMirror(1, a, SIZE, { mtime: MTIME });
    await putOnMirror(1, b, SIZE, { mtime: MTIME });
    await cron(base);
    expect((await copies(id).mirrorStates())[id]).toMatchObject({ disabled: false, reason: "a full rescan found it within the lag limits", lagFiles: 0 });
    expect((await listed(base)).mirrors.find((m) => m.id === id)).toMatchObject({ scan: { lagging: false, lagFiles: 0 } });
    await settledFetch(fresh("3"), held);
    expect((await settledFetch(fresh("3"), held)).headers.get("location")).toBe(`${realMirrorUrl(1)}${held}`);
  });

  it("bad scan settings answer 500 naming the field", async () => {
    const scanUrl = await settledFetch({ MIRRORS: JSON.stringify([{ url: realMirrorUrl(0), scanUrl: "ftp://x/SUMS" }]) }, uniquePath("x.iso"));
    expect(scanUrl.status).toBe(500);
    expect(await scanUrl.text()).toContain("MIRRORS[0].scanUrl");
    const creds = await settledFetch({ MIRRORS: JSON.stringify([{ url: realMirrorUrl(0), scanUrl: "http://u:p@127.0.0.1/SUMS" }]) }, uniquePath("x.iso"));
    expect(await creds.text()).toContain("MIRRORS[0].scanUrl");
    const nodeScan = await settledFetch({ OFFLOAD_NODES: JSON.stringify([{ url: realMirrorUrl(0), scanUrl: "http://127.0.0.1/SUMS" }]) }, uniquePath("x.iso"));
    expect(await nodeScan.text()).toContain("OFFLOAD_NODES[0].scanUrl");
    const concurrency = await settledFetch({ MIRROR_SCAN_CONCURRENCY: "9" }, uniquePath("x.iso"));
    expect(concurrency.status).toBe(500);
    expect(await concurrency.text()).toContain("MIRROR_SCAN_CONCURRENCY");
  });
});
