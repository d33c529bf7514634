// Issue #14 part 3: mirrors managed at run time through the admin's JSON API, with MIRRORS
// as the seed. Real mirrors (test/support/mirror-servers.mjs) hold the files, so "used"
// means named in Location / Link / X-Mirrored-By / .meta4 after a real check.
import { afterEach, describe, expect, it } from "vitest";
import { putFile, uniquePath } from "../../support/origin";
import { env } from "cloudflare:workers";
import { namedUrls, mirrorDown, mirrorUp, putOnMirror, realMirrorUrl } from "../mirror-support";
import { cronHealthChecks } from "../support";
import { api, deployFetch, listed } from "./catalog-support";

const SIZE = 200_000;
const MTIME = 1_700_000_000;
// Mirrors only, so Location itself shows whether a mirror was chosen.
const deploy = (seed: unknown[] = [], extra: Record<string, string> = {}) => ({ OFFLOAD_NODES: "", MIRRORS: JSON.stringify(seed), ...extra });
const on = (res: Response, url: string) => namedUrls(res).filter((u) => u.startsWith(`${url}/`));

// One catalog per base: what a test added (or edited) is deleted after it.
afterEach(async () => {
  for (const m of (await listed(deploy())).mirrors) await api(deploy(), "DELETE", `/mirrors/${m.id}`);
});

/** A file the origin and mirror `i` both hold (current copy). */
async function mirrored(i: number): Promise<string> {
  const path = uniquePath("cat.iso");
  await putFile(path, SIZE, { mtime: MTIME });
  await putOnMirror(i, path, SIZE, { mtime: MTIME });
  return path;
}

/** Ask twice: the first answer has the copy checked in the background, the second uses the verdict. */
async function settled(vars: Record<string, string>, path: string): Promise<Response> {
  await deployFetch(vars, path);
  return deployFetch(vars, path);
}

describe("mirror catalog: add, disable, enable, edit, delete at run time", () => {
  it("a mirror added through the API is used once its copy is verified; disabled it is never named; enabled it is checked again first", async () => {
    const vars = deploy();
    const add = await api(vars, "POST", "/mirrors", { id: "cat-add", url: realMirrorUrl(1), weight: 2, location: { lat: 52.5, lon: 13.4, country: "de" } });
    expect(add.status).toBe(201);
    expect(await add.json()).toMatchObject({ enabled: true, source: "admin", spec: { id: "cat-add", url: realMirrorUrl(1), weight: 2, location: { country: "DE" } } });

    const path = await mirrored(1);
    const used = await settled(vars, path);
    expect(used.status).toBe(307);
    expect(used.headers.get("location")).toBe(`${realMirrorUrl(1)}${path}`);

    expect((await api(vars, "POST", "/mirrors/cat-add/disable")).status).toBe(200);
    const off = await settled(vars, path);
    expect(off.status).toBe(200); // no mirror left: the base serves the file itself
    expect(on(off, realMirrorUrl(1))).toEqual([]);
    const meta4 = await (await deployFetch(vars, `${path}.meta4`)).text();
    expect(meta4).not.toContain(realMirrorUrl(1));

    expect((await api(vars, "POST", "/mirrors/cat-add/enable")).status).toBe(200);
    // Enabling forgot its verdicts: not named until checked again, then named.
    const first = await deployFetch(vars, path);
    expect(on(first, realMirrorUrl(1))).toEqual([]);
    const again = await deployFetch(vars, path);
    expect(again.headers.get("location")).toBe(`${realMirrorUrl(1)}${path}`);

    const { history } = await listed(vars);
    expect(history.filter((h) => h.mirror === "cat-add").map((h) => h.what.split(" ")[0]).reverse()).toEqual(["added", "disabled", "enabled"]);
    expect(history.find((h) => h.mirror === "cat-add")!.who).toBe("admin (bearer)");
  });

  it("PATCH edits weight, prefixes and location (null drops one), revalidated as a whole; the history keeps before and after", async () => {
    const vars = deploy();
    await api(vars, "POST", "/mirrors", { id: "cat-edit", url: realMirrorUrl(2) });
    const res = await api(vars, "PATCH", "/mirrors/cat-edit", { weight: 7, prefixes: ["/only/"], location: { lat: 1, lon: 2 } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { spec: unknown }).spec).toMatchObject({ weight: 7, prefixes: ["/only/"], location: { lat: 1, lon: 2 } });
    const dropped = (await (await api(vars, "PATCH", "/mirrors/cat-edit", { location: null })).json()) as { spec: Record<string, unknown> };
    expect(dropped.spec["location"]).toBeUndefined();

    // Outside its prefixes now: not used for this file, even though it holds it.
    const path = await mirrored(2);
    expect(on(await settled(vars, path), realMirrorUrl(2))).toEqual([]);
    await api(vars, "PATCH", "/mirrors/cat-edit", { prefixes: [] });
    expect((await settled(vars, path)).headers.get("location")).toBe(`${realMirrorUrl(2)}${path}`);

    const edits = (await listed(vars)).history.filter((h) => h.mirror === "cat-edit" && h.what === "edited");
    expect(edits).toHaveLength(3);
    expect(JSON.parse(edits[2]!.before!)).toMatchObject({ weight: 1, prefixes: [] });
    expect(JSON.parse(edits[2]!.after!)).toMatchObject({ weight: 7, prefixes: ["/only/"] });
  });

  it("DELETE removes a mirror (its verdicts too); unknown ids are 404, an id in use 409", async () => {
    const vars = deploy();
    await api(vars, "POST", "/mirrors", { id: "cat-del", url: realMirrorUrl(0) });
    expect((await api(vars, "POST", "/mirrors", { id: "cat-del", url: realMirrorUrl(1) })).status).toBe(409);
    const path = await mirrored(0);
    expect((await settled(vars, path)).headers.get("location")).toBe(`${realMirrorUrl(0)}${path}`);
    expect((await api(vars, "DELETE", "/mirrors/cat-del")).status).toBe(200);
    expect((await listed(vars)).mirrors.map((m) => m.id)).not.toContain("cat-del");
    expect(on(await settled(vars, path), realMirrorUrl(0))).toEqual([]);
    for (const [method, path] of [["DELETE", "/mirrors/nope"], ["PATCH", "/mirrors/nope"], ["POST", "/mirrors/nope/enable"], ["POST", "/mirrors/nope/disable"], ["POST", "/mirrors/nope/rescan"], ["GET", "/mirrors/nope"]] as const) {
      const res = await api(vars, method, path, method === "PATCH" ? { weight: 2 } : undefined);
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(await res.text()).toContain('"nope"');
    }
  });

  it("rescan forgets the mirror's verdicts: the file is checked again before its next use", async () => {
    const vars = deploy();
    await api(vars, "POST", "/mirrors", { id: "cat-rescan", url: realMirrorUrl(0) });
    const path = await mirrored(0);
    expect((await settled(vars, path)).headers.get("location")).toBe(`${realMirrorUrl(0)}${path}`);
    // The mirror's copy changes; only a new check can tell.
    await putOnMirror(0, path, SIZE + 5, { mtime: MTIME });
    expect((await deployFetch(vars, path)).headers.get("location")).toBe(`${realMirrorUrl(0)}${path}`);
    const r = await api(vars, "POST", "/mirrors/cat-rescan/rescan");
    expect(await r.json()).toMatchObject({ id: "cat-rescan", forgotten: 1 });
    const after = await settled(vars, path);
    expect(on(after, realMirrorUrl(0))).toEqual([]);
    expect((await listed(vars)).mirrors.find((m) => m.id === "cat-rescan")!.last).toMatchObject({ verdict: "outdated", path });
  });
});

describe("mirror catalog: MIRRORS is the seed", () => {
  it("seed entries are listed as such; a runtime edit survives a deploy that changes MIRRORS, an untouched entry follows it", async () => {
    const seedA = { id: "seed-a", url: realMirrorUrl(0), weight: 1 };
    const seedB = { id: "seed-b", url: realMirrorUrl(1), weight: 1 };
    const v1 = deploy([seedA, seedB]);
    const first = await listed(v1);
    expect(first.mirrors.map((m) => [m.id, m.source, m.edited, m.enabled])).toEqual([["seed-a", "seed", false, true], ["seed-b", "seed", false, true]]);
    expect(first.history.filter((h) => h.who === "seed").map((h) => `${h.mirror} ${h.what}`)).toEqual(expect.arrayContaining(["seed-a seeded from MIRRORS", "seed-b seeded from MIRRORS"]));

    expect((await api(v1, "PATCH", "/mirrors/seed-a", { weight: 9 })).status).toBe(200);
    // Next deploy: MIRRORS changes both weights.
    const v2 = deploy([{ ...seedA, weight: 3 }, { ...seedB, weight: 4 }]);
    const next = await listed(v2);
    expect(next.mirrors.map((m) => [m.id, m.spec.weight, m.edited])).toEqual([["seed-a", 9, true], ["seed-b", 4, false]]);
    expect(next.history.some((h) => h.who === "seed" && h.mirror === "seed-b" && h.what === "changed in MIRRORS")).toBe(true);

    // A deleted seed entry stays deleted in later deploys; adding it again revives it.
    await api(v2, "DELETE", "/mirrors/seed-b");
    expect((await listed(deploy([{ ...seedA, weight: 3 }, { ...seedB, weight: 5 }]))).mirrors.map((m) => m.id)).toEqual(["seed-a"]);
    expect((await api(v2, "POST", "/mirrors", seedB)).status).toBe(201);
    expect((await listed(v2)).mirrors.map((m) => m.id)).toEqual(["seed-a", "seed-b"]);
  });

  it("a disabled seed mirror is never named, though it holds the file", async () => {
    const vars = deploy([{ id: "seed-off", url: realMirrorUrl(2) }]);
    const path = await mirrored(2);
    expect((await settled(vars, path)).headers.get("location")).toBe(`${realMirrorUrl(2)}${path}`);
    await api(vars, "POST", "/mirrors/seed-off/disable");
    const res = await settled(vars, path);
    expect(res.status).toBe(200);
    expect(on(res, realMirrorUrl(2))).toEqual([]);
    await api(vars, "POST", "/mirrors/seed-off/enable");
  });
});

describe("mirror catalog: the Cron's health checks", () => {
  it("probe mirrors added at run time, and not disabled ones", async () => {
    const registry = (env as unknown as Env).HEALTH.get((env as unknown as Env).HEALTH.idFromName("registry"));
    const asDeployed = {}; // the test config's own MIRRORS, as the Cron sees it
    await api(asDeployed, "POST", "/mirrors", { id: "cat-probed", url: realMirrorUrl(1) });
    await api(asDeployed, "POST", "/mirrors", { id: "cat-off", url: realMirrorUrl(1) });
    await api(asDeployed, "POST", "/mirrors/cat-off/disable");
    await mirrorDown(1);
    try {
      for (let i = 0; i < 2; i++) await cronHealthChecks();
    } finally {
      await mirrorUp(1);
    }
    const records = await registry.snapshot();
    expect(records["cat-probed"]).toMatchObject({ healthy: false });
    expect(records["cat-off"]).toBeUndefined();
    // The admin's health table lists what the Cron probes: the catalog's enabled mirrors.
    const health = (await (await api(asDeployed, "GET", "/health")).json()) as { targets: { id: string; kind: string; healthy: boolean }[] };
    expect(health.targets.find((t) => t.id === "cat-probed")).toMatchObject({ kind: "mirror", healthy: false });
    expect(health.targets.some((t) => t.id === "cat-off")).toBe(false);
  });
});
