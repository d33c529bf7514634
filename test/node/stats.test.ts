import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { OffloadStats } from "../../src/stats/offload-stats";
import { fetchWithVars } from "../support/app";
import { eventually, streamSha256 } from "../support/node";
import { putFile, uniquePath } from "../support/origin";

// The base worker's real OffloadStats (an auxiliary worker of this project, see
// scripts/stack/stats-worker.mjs), reached through the node's own STATS binding.
const ns = (env as unknown as { STATS: DurableObjectNamespace<OffloadStats> }).STATS;
const summary = () => ns.get(ns.idFromName("offload-stats")).summary({ minutes: 5, top: 100 });

describe("offload node -> base's OffloadStats", () => {
  it("reports fills as origin bytes, copies as copy bytes, HEAD as 0 bytes, and guard refusals", async () => {
    const path = uniquePath("stats.bin");
    const file = await putFile(path, 2 * 1024 * 1024 + 5);
    const vars = { STATS_FLUSH_SECONDS: "0" };
    const refusedBefore = (await summary()).totals.refusals;

    const fill = await fetchWithVars(vars, path, { ip: "198.51.100.60" });
    expect(fill.headers.get("cache-status")).toMatch(/fwd=miss; fwd-status=200; stored/);
    expect((await streamSha256(fill)).bytes).toBe(file.size);

    // Another client holds both of its download slots (MAX_CONNECTIONS_PER_CLIENT=2)...
    const held = [await fetchWithVars(vars, path, { ip: "198.51.100.61" }), await fetchWithVars(vars, path, { ip: "198.51.100.61" })];
    expect(held.map((r) => r.headers.get("cache-status"))).toEqual([expect.stringMatching(/fwd=stale/), expect.stringMatching(/fwd=stale/)]);
    // ...so its third download is refused, while a HEAD is answered (and moves no bytes).
    const refused = await fetchWithVars(vars, path, { ip: "198.51.100.61" });
    expect(refused.status).toBe(503);
    await refused.text();
    const head = await fetchWithVars(vars, path, { ip: "198.51.100.61", method: "HEAD" });
    expect(head.status).toBe(200);
    await Promise.all(held.map((r) => r.body!.cancel()));

    // Cancelled before a byte was read: they count the bytes they pulled, none (not their
    // declared length: platform/counted-body.ts), as answers they still count.
    const counted = await eventually(async () => {
      const f = (await summary()).top.find((t) => t.path === path);
      return f?.responses === 4 ? f : undefined;
    });
    expect(counted).toEqual({ path, bytes: file.size, responses: 4, copyBytes: 0 });
    expect((await summary()).totals.refusals).toBe(refusedBefore + 1);
  });

  it("answers every request with the field's name when STATS_FLUSH_SECONDS is invalid", async () => {
    const res = await fetchWithVars({ STATS_FLUSH_SECONDS: "-1" }, uniquePath("x.bin"));
    expect(res.status).toBe(500);
    expect(await res.text()).toMatch(/STATS_FLUSH_SECONDS/);
  });
});
