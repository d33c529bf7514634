import { afterEach, describe, expect, it } from "vitest";
import { putFile, uniquePath } from "../support/origin";
import { baseFetch, baseWithVars, cronHealthChecks, nodeUrl, target } from "./support";

async function locations(paths: string[]): Promise<Set<string>> {
  const seen = new Set<string>();
  for (const p of paths) {
    const res = await baseFetch(p);
    seen.add(res.status === 307 ? new URL(res.headers.get("location")!).origin : `status ${res.status}`);
    await res.arrayBuffer();
  }
  return seen;
}

async function files(n: number): Promise<string[]> {
  const paths = Array.from({ length: n }, (_, i) => uniquePath(`h${i}.bin`));
  for (const p of paths) await putFile(p, 150_000);
  return paths;
}

/** Cron runs until the base's view (refreshed every 2 s) shows the change. */
async function checksUntil(paths: string[], expected: Set<string>): Promise<void> {
  const end = Date.now() + 15_000;
  for (;;) {
    await cronHealthChecks();
    const seen = await locations(paths);
    if ([...seen].sort().join() === [...expected].sort().join()) return;
    if (Date.now() > end) throw new Error(`still ${[...seen].join(", ")}, wanted ${[...expected].join(", ")}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

describe("base: health checks and failover", () => {
  afterEach(async () => {
    await target(0, "up");
    await target(0, "set", { status: 200 });
    await target(1, "up");
    await target(1, "set", { status: 200 });
    await cronHealthChecks();
    await cronHealthChecks();
  });

  it("stops sending clients to a node that is really down (after HEALTH_FALL failed checks) and takes it back after HEALTH_RISE", async () => {
    const paths = await files(12);
    await checksUntil(paths, new Set([nodeUrl(0), nodeUrl(1)]));
    const before = (await target(0, "set")).probes;
    await target(0, "down");
    await checksUntil(paths, new Set([nodeUrl(1)]));
    await target(0, "up");
    await checksUntil(paths, new Set([nodeUrl(0), nodeUrl(1)]));
    expect((await target(0, "set")).probes).toBeGreaterThan(before);
  });

  it("treats a node answering 5xx as down too", async () => {
    const paths = await files(8);
    await target(1, "set", { status: 503 });
    await checksUntil(paths, new Set([nodeUrl(0)]));
  });

  it("with every node down: FALLBACK_URL if configured, else the base serves the file itself", async () => {
    const paths = await files(2);
    await target(0, "down");
    await target(1, "down");
    await checksUntil(paths, new Set(["status 200"]));
    const own = await baseFetch(paths[0]!);
    expect(own.headers.get("cache-status")).toBe("test-base; fwd=bypass; detail=no-healthy-target");
    expect((await own.arrayBuffer()).byteLength).toBe(150_000);
    const fb = await baseWithVars({ FALLBACK_URL: "https://fallback.example/pub" }, paths[0]!);
    expect(fb.status).toBe(307);
    expect(fb.headers.get("location")).toBe(`https://fallback.example/pub${paths[0]}`);
    await fb.text();
  });
});

describe("base: threshold mode (OFFLOAD_WHEN_BUSY)", () => {
  it("serves eligible files itself until N downloads are in flight, then redirects", async () => {
    const path = uniquePath("busy.bin");
    await putFile(path, 4 * 1024 * 1024);
    const vars = { OFFLOAD_WHEN_BUSY: "1" };
    const first = await baseWithVars(vars, path);
    expect(first.status).toBe(200);
    expect(first.headers.get("cache-status")).toContain("under-threshold");
    const second = await baseWithVars(vars, path);
    expect(second.status).toBe(307);
    await second.text();
    expect((await first.arrayBuffer()).byteLength).toBe(4 * 1024 * 1024);
    // The slot is free again once the first download has ended.
    let again = await baseWithVars(vars, path);
    for (let i = 0; again.status !== 200 && i < 40; i++) {
      await again.text();
      await new Promise((r) => setTimeout(r, 50));
      again = await baseWithVars(vars, path);
    }
    expect(again.status).toBe(200);
    await again.arrayBuffer();
  });
});

describe("base: geo strategy", () => {
  it("sends a client to the nearest healthy node by request.cf coordinates", async () => {
    const path = uniquePath("geo.bin");
    await putFile(path, 200_000);
    const paris = await baseWithVars({ BALANCER: "geo" }, path, { cf: { latitude: "48.85", longitude: "2.35", country: "FR", continent: "EU" } });
    expect(new URL(paris.headers.get("location")!).origin).toBe(nodeUrl(0));
    await paris.text();
    const boston = await baseWithVars({ BALANCER: "geo" }, path, { cf: { latitude: "42.36", longitude: "-71.06", country: "US", continent: "NA" } });
    expect(new URL(boston.headers.get("location")!).origin).toBe(nodeUrl(1));
    await boston.text();
  });
});
