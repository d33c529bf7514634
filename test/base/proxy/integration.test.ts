import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { baseWithVars } from "../support";
import { backendUrl } from "./support";

const store = (env as unknown as Env).STORE;
const ROUTES = JSON.stringify([
  { prefix: "/app/", backends: [backendUrl(0), backendUrl(1)], balancer: "round-robin", sendfile: { allow: true, root: "r2:files" } },
  { prefix: "/plain/", backends: [backendUrl(2)] },
  { prefix: "/dl/", backends: [backendUrl(0)], sendfile: { allow: true, root: "r2:files" }, throttle: 20000, throttleBurstBytes: 10000 },
]);
const vars = { PROXY_ROUTES: ROUTES };
const sendfileHeader = (name: string) => ({ "x-echo-header": JSON.stringify({ "x-sendfile": name }) });

describe("base: proxy routes with X-Sendfile and throttling", () => {
  it("sends a route's requests to its pool instead of the offload logic", async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const res = await baseWithVars(vars, `/app/page?i=${i}`, { ip: "203.0.113.50" });
      expect(res.status).toBe(200);
      const echo = (await res.json()) as { backend: string; path: string; headers: Record<string, string> };
      expect(echo.path).toBe("/app/page");
      expect(echo.headers["x-forwarded-for"]).toBe("203.0.113.50");
      seen.add(echo.backend);
    }
    expect(seen).toEqual(new Set(["b0", "b1"]));
  });

  it("serves the file a backend names with X-Sendfile from R2, with Range, never showing the header", async () => {
    const bytes = new Uint8Array(5000).map((_, i) => i % 251);
    await store.put("files/reports/q3.bin", bytes, { httpMetadata: { contentType: "application/octet-stream" } });
    const res = await baseWithVars(vars, "/app/download", { headers: sendfileHeader("/reports/q3.bin") });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-sendfile")).toBeNull();
    expect(res.headers.get("etag")).toBeTruthy();
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes);
    const ranged = await baseWithVars(vars, "/app/download", { headers: { ...sendfileHeader("/reports/q3.bin"), range: "bytes=10-19" } });
    expect(ranged.status).toBe(206);
    expect(new Uint8Array(await ranged.arrayBuffer())).toEqual(bytes.slice(10, 20));
    const escape = await baseWithVars(vars, "/app/download", { headers: sendfileHeader("/../meta/secret") });
    expect(escape.status).toBe(403);
    expect(await escape.text()).toMatch(/sendfile refused/);
  });

  it("strips X-Sendfile on routes that do not allow it and passes the backend's body", async () => {
    const res = await baseWithVars(vars, "/plain/x", { headers: sendfileHeader("/reports/q3.bin") });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-sendfile")).toBeNull();
    expect(((await res.json()) as { backend: string }).backend).toBe("b2");
  });

  it("paces a throttled route's body after its burst (20000 B/s, 10000 B unpaced)", async () => {
    const bytes = new Uint8Array(50_000).map((_, i) => (i * 7) % 256);
    await store.put("files/big/slow.bin", bytes);
    const t0 = Date.now();
    const res = await baseWithVars(vars, "/dl/get", { headers: sendfileHeader("/big/slow.bin") });
    expect(res.headers.get("content-length")).toBe("50000");
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes);
    // 40000 paced bytes at 20000 B/s cannot take less than ~2 s (a lower bound only).
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1800);
  });

  it("names the route field of an invalid throttle or sendfile root", async () => {
    for (const [route, field] of [
      [{ prefix: "/a/", backends: [backendUrl(0)], throttle: "V.99" }, "PROXY_ROUTES[0].throttle"],
      [{ prefix: "/a/", backends: [backendUrl(0)], sendfile: { allow: true, root: "s3:bucket" } }, "PROXY_ROUTES[0].sendfile.root"],
      [{ prefix: "/a/", backends: ["ftp://x"] }, "PROXY_ROUTES[0].backends[0]"],
    ] as const) {
      const res = await baseWithVars({ PROXY_ROUTES: JSON.stringify([route]) }, "/a/x");
      expect(res.status).toBe(500);
      expect(await res.text()).toContain(field);
    }
  });
});
