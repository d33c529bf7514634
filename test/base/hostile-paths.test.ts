// Hostile request paths at the base: linear-time glob decisions (issue #11 M4) and dot
// segments hidden behind ";params" (issue #11 L2), through the real worker.
import { describe, expect, it } from "vitest";
import { putFile, totalStats, uniquePath } from "../support/origin";
import { baseFetch, baseWithVars } from "./support";
import { backendPorts } from "./proxy/support";

const DOT_PARAMS = ["/app/..;/x", "/app/%2e%2e;/x", "/app/..%3B/x", "/app/.;jsessionid=1/x", "/..;/etc/passwd", "/app/a/..;x=1/..;/admin"];

describe("base: hostile paths", () => {
  it("decides on the issue's pathological include list and a 2 KB path without stalling (linear glob match)", async () => {
    // On a backtracking RegExp this path took minutes; the test times out long before that.
    const vars = { OFFLOAD_INCLUDE: "/*/*/*/*.iso,/*", OFFLOAD_MIN_BYTES: "1000", PUBLIC_URL: "https://www.example.com" };
    const path = ("/" + "a/".repeat(1024)).slice(0, 2047);
    const started = Date.now();
    const res = await baseWithVars(vars, path);
    expect(res.status).toBe(404); // not on the origin: the base passes the origin's answer on
    await res.arrayBuffer();
    // The same include list still offloads what it should.
    const big = uniquePath("x/y/z/big.iso");
    await putFile(big, 200_000);
    const hit = await baseWithVars(vars, big);
    expect(hit.status).toBe(307);
    expect(Date.now() - started).toBeLessThan(20_000);
  }, 30_000);

  it("refuses a dot segment with ;params in every spelling with 400 and one plain line, asking the origin nothing", async () => {
    const before = await totalStats();
    for (const path of DOT_PARAMS) {
      const res = await baseFetch(path);
      expect(res.status, path).toBe(400);
      expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
      expect(await res.text()).toBe("bad request path: dot segment in path\n");
    }
    const after = await totalStats();
    expect([after.gets, after.heads]).toEqual([before.gets, before.heads]);
  });

  it("does not let ..; escape a proxy route's prefix", async () => {
    const routes = JSON.stringify([{ prefix: "/app/", backends: [`http://127.0.0.1:${backendPorts[0]}`] }]);
    for (const path of DOT_PARAMS) {
      const res = await baseWithVars({ PROXY_ROUTES: routes }, path);
      expect(res.status, path).toBe(400);
      expect(await res.text()).toBe("bad request path: dot segment in path\n");
    }
  });
});
