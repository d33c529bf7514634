// Issue #14, first step: the base never sends a client to (or names) a mirror without the
// current file. Three real mirrors (the repo's static origin on other ports): a copy equal
// to the origin's, an outdated one, none at all; one mirror stopped for real.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { checkCopies } from "../../src/mirrors/copies";
import { copiesOf } from "../../src/mirrors/inventory";
import { putFile, uniquePath } from "../support/origin";
import { mirrorDown, mirrorUp, namedUrls, putOnMirror, realMirrorUrl, settledFetch } from "./mirror-support";

const SIZE = 200_000;
const MTIME = 1_700_000_000;
// Mirrors only (no nodes), so Location itself shows whether a mirror was chosen.
const vars = (extra: Record<string, string> = {}) => ({
  OFFLOAD_NODES: "",
  MIRRORS: JSON.stringify([0, 1, 2].map((i) => ({ id: `real${i}`, url: realMirrorUrl(i) }))),
  ...extra,
});
const on = (urls: string[], i: number) => urls.filter((u) => u.startsWith(`${realMirrorUrl(i)}/`));

afterEach(async () => {
  for (const i of [0, 1, 2]) await mirrorUp(i);
});

describe("mirror inventory: only current copies are used (issue #14)", () => {
  it("redirects to and lists only the mirror holding the current file; the others stay out of Location, Link, X-Mirrored-By and .meta4", async () => {
    const path = uniquePath("current.iso");
    await putFile(path, SIZE, { mtime: MTIME });
    await putOnMirror(0, path, SIZE, { mtime: MTIME }); // current
    await putOnMirror(1, path, SIZE + 1, { mtime: MTIME }); // outdated: other size
    // mirror 2: missing (404)

    // Not verified yet: no mirror is named, the base serves the file as with no mirror.
    const first = await settledFetch(vars(), path);
    expect(first.status).toBe(200);
    expect(namedUrls(first)).toEqual([]);

    const res = await settledFetch(vars(), path);
    expect(res.status).toBe(307);
    expect(res.headers.get("location")).toBe(`${realMirrorUrl(0)}${path}`);
    const named = namedUrls(res);
    expect(on(named, 0).length).toBe(3); // Link, X-Mirrored-By, Location
    expect(on(named, 1)).toEqual([]);
    expect(on(named, 2)).toEqual([]);

    const meta4 = await (await settledFetch(vars(), `${path}.meta4`)).text();
    expect(meta4).toContain(`${realMirrorUrl(0)}${path}`);
    expect(meta4).not.toContain(realMirrorUrl(1));
    expect(meta4).not.toContain(realMirrorUrl(2));

    const verdicts = await checkCopies(env as unknown as Env, checkOf(path, [0, 1, 2]));
    expect(verdicts["real0"]).toMatchObject({ verdict: "current" });
    expect(verdicts["real1"]).toMatchObject({ verdict: "outdated", detail: `size ${SIZE + 1}, origin ${SIZE}` });
    expect(verdicts["real2"]).toMatchObject({ verdict: "missing", detail: "HTTP 404" });

    // Each mirror's verdicts live in its own copies object (docs/scaling.md 2e), none in the catalog's.
    const testEnv = env as unknown as Env;
    for (const i of [0, 1, 2]) {
      const own = await copiesOf(testEnv, `real${i}`).lastVerdicts([`real${i}`, `real${(i + 1) % 3}`]);
      expect(own[`real${i}`]!.last).not.toBeNull();
      expect(own[`real${(i + 1) % 3}`]!.last).toBeNull();
    }
    const catalogObject = testEnv.MIRROR_INVENTORY.get(testEnv.MIRROR_INVENTORY.idFromName("inventory"));
    expect((await catalogObject.lastVerdicts(["real0", "real1", "real2"]))["real0"]!.last).toBeNull();
  });

  it("an older copy of one file keeps its mirror out for that file only; a partial mirror still serves what it holds", async () => {
    const older = uniquePath("older.iso");
    const held = uniquePath("held.iso");
    await putFile(older, SIZE, { mtime: MTIME });
    await putFile(held, SIZE, { mtime: MTIME });
    await putOnMirror(1, older, SIZE, { mtime: MTIME - 3600 }); // same size, an hour older
    await putOnMirror(1, held, SIZE, { mtime: MTIME });
    await putOnMirror(2, held, SIZE, { mtime: MTIME }); // mirror 2 lacks `older`

    for (const path of [older, held]) await settledFetch(vars(), path);
    const a = await settledFetch(vars(), older);
    expect(a.status).toBe(200); // nobody holds the current `older`: served by the base
    expect(namedUrls(a)).toEqual([]);
    const b = await settledFetch(vars(), held);
    expect(b.status).toBe(307);
    expect(on(namedUrls(b), 1).length).toBeGreaterThan(0);
    expect(on(namedUrls(b), 2).length).toBeGreaterThan(0);
    expect(on(namedUrls(b), 0)).toEqual([]);
    expect((await checkCopies(env as unknown as Env, checkOf(older, [1])))["real1"]).toMatchObject({ verdict: "outdated" });
  });

  it("a mirror that is down gets an error verdict and is not used", async () => {
    const path = uniquePath("down.iso");
    await putFile(path, SIZE, { mtime: MTIME });
    await putOnMirror(0, path, SIZE, { mtime: MTIME });
    await putOnMirror(1, path, SIZE, { mtime: MTIME });
    await mirrorDown(0);
    await settledFetch(vars(), path);
    const res = await settledFetch(vars(), path);
    expect(res.headers.get("location")).toBe(`${realMirrorUrl(1)}${path}`);
    expect(on(namedUrls(res), 0)).toEqual([]);
    expect((await checkCopies(env as unknown as Env, checkOf(path, [0])))["real0"]).toMatchObject({ verdict: "error", detail: "cannot connect" });
  });

  it("with nodes too, the nodes keep every redirect while a mirror is unverified or outdated", async () => {
    const path = uniquePath("nodes.iso");
    await putFile(path, SIZE, { mtime: MTIME });
    await putOnMirror(0, path, SIZE, { mtime: MTIME - 1 });
    const withNodes = { MIRRORS: JSON.stringify([{ id: "real0", url: realMirrorUrl(0) }]) };
    for (let i = 0; i < 2; i++) {
      const res = await settledFetch(withNodes, path);
      expect(res.status).toBe(307);
      expect(on(namedUrls(res), 0)).toEqual([]);
    }
  });

  it("a bad MIRROR_RECHECK_SECONDS answers 500 naming the field", async () => {
    const res = await settledFetch(vars({ MIRROR_VERDICT_SECONDS: "30", MIRROR_RECHECK_SECONDS: "60" }), uniquePath("x.iso"));
    expect(res.status).toBe(500);
    expect(await res.text()).toContain("MIRROR_RECHECK_SECONDS");
  });
});


/** The check the base itself makes for this file (the origin's version as the test created it). */
function checkOf(path: string, mirrors: number[]) {
  return {
    path,
    origin: { size: SIZE, lastModified: new Date(MTIME * 1000).toUTCString(), etag: null, sha256: null },
    mirrors: mirrors.map((i) => ({ id: `real${i}`, url: realMirrorUrl(i), originEtags: false })),
    timeoutMs: 3000,
    verdictSeconds: 300,
    recheckSeconds: 60,
  };
}
