import { describe, expect, it } from "vitest";
import { putFile, stats, uniquePath } from "../support/origin";
import { streamSha256 } from "../support/node";
import { fetchWithVars } from "../support/app";

describe("REVALIDATE_SECONDS", () => {
  it("skips the origin HEAD while the copy is younger than the window", async () => {
    const vars = { REVALIDATE_SECONDS: "60", NODE_ID: "young-node" };
    const path = uniquePath("young.bin");
    const file = await putFile(path, 40_000);
    await streamSha256(await fetchWithVars(vars, path));
    const headsAfterFill = (await stats(path)).heads;

    for (let i = 0; i < 3; i++) {
      const res = await fetchWithVars(vars, path);
      expect(res.headers.get("cache-status")).toMatch(/^young-node; hit; ttl=\d+; detail=(r2|cache-api)$/);
      expect((await streamSha256(res)).sha256).toBe(file.sha256);
    }
    expect((await stats(path)).heads).toBe(headsAfterFill);
  });

  it("with the default 0, every request revalidates (mod_offload)", async () => {
    const path = uniquePath("every.bin");
    await putFile(path, 1000);
    for (let i = 0; i < 3; i++) await (await fetchWithVars({}, path)).arrayBuffer();
    expect((await stats(path)).heads).toBe(3);
  });
});

describe("THROTTLE (mod_dialup per node download)", () => {
  it("paces downloads at the configured rate after the burst, with Content-Length kept", async () => {
    const path = uniquePath("paced.bin");
    const file = await putFile(path, 60_000);
    await streamSha256(await fetchWithVars({}, path));
    const t0 = Date.now();
    const res = await fetchWithVars({ THROTTLE: "20000", THROTTLE_BURST_BYTES: "20000" }, path);
    expect(res.headers.get("content-length")).toBe("60000");
    expect((await streamSha256(res)).sha256).toBe(file.sha256);
    // 40000 paced bytes at 20000 B/s: at least ~2 s (a lower bound; accuracy is bench-throttle's job).
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1800);
  });

  it("refuses an unknown modem standard, naming THROTTLE", async () => {
    const res = await fetchWithVars({ THROTTLE: "V.99" }, "/x.bin");
    expect(res.status).toBe(500);
    expect(await res.text()).toMatch(/THROTTLE/);
  });
});
