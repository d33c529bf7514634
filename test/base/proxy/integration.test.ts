import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { baseWithVars } from "../support";
import { backendUrl } from "./support";

const store = (env as unknown as Env).STORE;
const ROUTES = JSON.stringify([
  { prefix: "/app/", backends: [backendUrl(0), backendUrl(1)], balancer: "round-robin", sendfile: { allow: true, root: "r2:files" } },
  { prefix: "/plain/", backends: [backendUrl(2)] },
  { prefix: "/dl/", backends: [backendUrl(0)], sendfile: { allow: true, root: "r2:files" }, throttle: 20000, throttleBurstBytes: 10000 },
  { prefix: "/paced/", backends: [backendUrl(1)], throttle: 1_000_000 },
  { prefix: "/down/", backends: ["http://127.0.0.1:1"] },
]);
const CONTROL = { "x-sendfile": "/reports/q3.bin", "x-lighttpd-send-file": "/a", "x-accel-redirect": "/b", "x-accel-buffering": "no", "x-accel-charset": "utf-8", "x-accel-expires": "60", "x-accel-limit-rate": "1000" };
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

  it("hides every control field on routes that do not allow X-Sendfile, paced or not, with the hop-by-hop ones", async () => {
    for (const path of ["/plain/x", "/paced/x"]) {
      const res = await baseWithVars(vars, path, { headers: { "x-echo-header": JSON.stringify({ ...CONTROL, "x-kept": "1" }), "x-echo-hop": "1" } });
      expect(res.status, path).toBe(200);
      for (const h of [...Object.keys(CONTROL), "connection", "keep-alive", "x-hop-named", "proxy-authenticate"]) expect(res.headers.get(h), `${path} ${h}`).toBeNull();
      expect(res.headers.get("x-kept"), path).toBe("1");
      expect(res.headers.get("x-end-to-end"), path).toBe("kept");
      expect(((await res.json()) as { path: string }).path, path).toBe(path);
    }
  });

  it("HEAD through a route: the backend's fields, no body", async () => {
    const res = await baseWithVars(vars, "/plain/x", { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(Number(res.headers.get("content-length"))).toBeGreaterThan(0);
    expect((await res.arrayBuffer()).byteLength).toBe(0);
  });

  it("a route's failed answer is logged once as answer.error, under the id the client is shown", async () => {
    const spy = vi.spyOn(console, "error");
    let lines: Record<string, unknown>[];
    let res: Response;
    try {
      res = await baseWithVars(vars, "/down/x", { headers: { "cf-ray": "8f1b2c3d4e5f6a7c-AMS" } });
      lines = spy.mock.calls.flatMap(([l]) => (typeof l === "string" && l.startsWith("{") ? [JSON.parse(l) as Record<string, unknown>] : []));
    } finally {
      spy.mockRestore();
    }
    expect(res.status).toBe(502);
    expect(res.headers.get("x-request-id")).toBe("8f1b2c3d4e5f6a7c-AMS");
    expect(lines.filter((l) => l.msg === "answer.error")).toEqual([expect.objectContaining({ requestId: "8f1b2c3d4e5f6a7c-AMS", path: "/down/x", status: 502 })]);
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
