// Issue #14 part 6: redirects and bytes the base sends to each mirror per minute, counted
// by the per-isolate stats recorder into the one OffloadStats object, shown by the admin.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { PER_MINUTE_WINDOW } from "../../../src/admin/mirror-actions";
import { putFile, uniquePath } from "../../support/origin";
import { putOnMirror, realMirrorUrl } from "../mirror-support";
import { api, deployFetch, listed } from "./catalog-support";

const SIZE = 150_000;
const MTIME = 1_700_000_000;

describe("per-mirror numbers", () => {
  it("counts each redirect to a mirror and the redirected file's size; the admin shows them per minute", async () => {
    const vars = { OFFLOAD_NODES: "", MIRRORS: JSON.stringify([{ id: "traffic", url: realMirrorUrl(0) }]) };
    const path = uniquePath("t.iso");
    await putFile(path, SIZE, { mtime: MTIME });
    await putOnMirror(0, path, SIZE, { mtime: MTIME });
    await deployFetch(vars, path); // verified in the background; served by the base
    for (let i = 0; i < 3; i++) expect((await deployFetch(vars, path)).status).toBe(307);
    const m = (await listed(vars)).mirrors.find((x) => x.id === "traffic")!;
    expect(m.perMinute).toEqual({ redirects: 3 / PER_MINUTE_WINDOW, bytes: (3 * SIZE) / PER_MINUTE_WINDOW });
    expect(m.last).toMatchObject({ verdict: "current", path });
    const page = await (await deployFetch(vars, "/_admin", { headers: { authorization: "Bearer admin-test-token-0123456789" } })).text();
    expect(page).toMatch(/<tr data-mirror="traffic">[\s\S]*?<td class="num">0\.6<\/td><td class="num">87\.9 KiB<\/td>/);
    await api(vars, "POST", "/mirrors/traffic/disable");
  });

  it("a batch with a bad mirror entry is refused whole, naming the field", async () => {
    const stats = (env as unknown as Env).STATS.get((env as unknown as Env).STATS.idFromName("offload-stats"));
    const minute = Date.now() - (Date.now() % 60_000);
    const bucket = { minute, copyBytes: 0, originBytes: 0, copyResponses: 0, originResponses: 0, refusals: 0, files: [] };
    // Settled here, not through expect().rejects (as stats/storage.test.ts: the RPC's own rejection would be reported unhandled).
    const refused = (mirrors: unknown) => stats.record({ buckets: [{ ...bucket, mirrors } as never] }).then(() => null, (e: unknown) => String(e));
    expect(await refused([{ mirror: "bad id", redirects: 1, bytes: 1 }])).toMatch(/buckets\[0\]\.mirrors\[0\]\.mirror: must be a mirror id/);
    expect(await refused([{ mirror: "ok", redirects: -1, bytes: 1 }])).toMatch(/buckets\[0\]\.mirrors\[0\]\.redirects/);
    expect((await stats.mirrorTraffic(5)).mirrors.find((m) => m.mirror === "ok")).toBeUndefined();
  });
});
