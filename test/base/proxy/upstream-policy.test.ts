// Issue #11 L5, L7 and the Location finding, through the real base worker and real
// upstreams: the static test origin and the echo backends (an echo backend also stands in
// as ORIGIN_URL where a test must read every header value the origin received).
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { recentRequests, putFile, uniquePath } from "../../support/origin";
import { baseWithVars } from "../support";
import { backend, backendUrl, echo, PUBLIC, resetBackends, routeOf, send } from "./support";

/** Client-sent claims about who the client is; none may reach an origin or a backend. */
const FORGED = {
  "x-forwarded-for": "1.2.3.4",
  "x-real-ip": "1.2.3.4",
  forwarded: "for=1.2.3.4;proto=https;host=evil.example",
  "true-client-ip": "1.2.3.4",
  "x-client-ip": "1.2.3.4",
  "x-cluster-client-ip": "1.2.3.4",
  "fastly-client-ip": "1.2.3.4",
  "x-forwarded-host": "evil.example",
  "x-forwarded-proto": "http",
  "x-forwarded-port": "80",
};
const CLAIMED = Object.keys(FORGED).filter((h) => h !== "x-forwarded-for");

/** The base whose origin is echo backend b0 (ORIGIN_URL), no proxy routes. */
const echoOrigin = { ORIGIN_URL: backendUrl(0), PROXY_ROUTES: "" };

beforeEach(resetBackends);
afterEach(resetBackends);

describe("one forwarding policy for the origin and the backends (L5)", () => {
  it("the base's pass-through: the origin sees the Cloudflare peer as X-Forwarded-For and no client-sent address claim", async () => {
    const res = await baseWithVars(echoOrigin, "/form", { method: "POST", body: "a=1", ip: "198.51.100.7", headers: FORGED });
    const seen = await echo(res);
    expect(seen.headers["x-forwarded-for"]).toBe("198.51.100.7");
    for (const h of CLAIMED) expect(seen.headers[h], h).toBeUndefined();
    expect(seen.headers["cf-connecting-ip"]).toBeUndefined();
  });

  it("the real static origin records none of the forged fields on a pass-through GET", async () => {
    const path = uniquePath("small.txt");
    await putFile(path, 1000); // below OFFLOAD_MIN_BYTES: the base serves it itself
    const res = await baseWithVars({}, path, { headers: FORGED });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    const entry = (await recentRequests()).filter((r) => r["path"] === path && r["method"] === "GET").at(-1);
    const names = entry?.["headerNames"] as string[];
    expect(names).toContain("x-forwarded-for");
    for (const h of CLAIMED) expect(names, h).not.toContain(h);
  });

  it("a proxy route drops the same claims", async () => {
    const seen = await echo(await send(routeOf({ prefix: "/fwd/", backends: [backendUrl(0)] }), "/fwd/x", { ip: "198.51.100.7", headers: FORGED }));
    expect(seen.headers["x-forwarded-for"]).toBe("198.51.100.7");
    for (const h of CLAIMED.filter((h) => !h.startsWith("x-forwarded-host") && h !== "x-forwarded-proto")) expect(seen.headers[h], h).toBeUndefined();
    expect(seen.headers["x-forwarded-host"]).toBe("www.example.com");
    expect(seen.headers["x-forwarded-proto"]).toBe("https");
  });
});

describe("an upstream's Location never sends the client to another host by spelling", () => {
  const SPELLINGS = ["//evil.example/x", "/\\evil.example/x", "http:\\\\evil.example/x", "\\\\evil.example/x"];

  it("through a proxy route (a real backend's Location)", async () => {
    const route = routeOf({ prefix: "/loc/", backends: [backendUrl(0)] });
    for (const loc of SPELLINGS) {
      const res = await send(route, "/loc/a", { headers: { "x-echo-location": loc, "x-echo-status": "302" } });
      expect(res.headers.get("location"), loc).toBe(`${PUBLIC}/x`);
    }
    const own = await send(route, "/loc/a", { headers: { "x-echo-location": `${backendUrl(0)}/loc/b?c=1`, "x-echo-status": "302" } });
    expect(own.headers.get("location")).toBe(`${PUBLIC}/loc/b?c=1`);
    const other = await send(route, "/loc/a", { headers: { "x-echo-location": "https://sso.example.net/login", "x-echo-status": "302" } });
    expect(other.headers.get("location")).toBe("https://sso.example.net/login");
  });

  it("through the base's pass-through (the origin's Location), without PUBLIC_URL: path-absolute", async () => {
    for (const loc of [...SPELLINGS, `${backendUrl(0)}//evil.example/x`]) {
      const res = await baseWithVars(echoOrigin, "/form", { method: "POST", body: "", headers: { "x-echo-location": loc, "x-echo-status": "302" } });
      const location = res.headers.get("location")!;
      await res.arrayBuffer();
      expect(new URL(location, "https://public.example/page").host, `${loc} -> ${location}`).toBe("public.example");
      expect(location).not.toMatch(/^\/\/|\\/);
    }
  });
});

describe("errors name no internal address or runtime message (L7)", () => {
  it("the base's pass-through with its origin down: 502 with a request id; the details are logged under it", async () => {
    await backend(2, "down");
    const spy = vi.spyOn(console, "error");
    let res: Response;
    let lines: string[];
    try {
      res = await baseWithVars({ ORIGIN_URL: backendUrl(2), PROXY_ROUTES: "" }, "/form", { method: "POST", body: "a=1", headers: { "cf-ray": "8f1b2c3d4e5f6a7b-AMS" } });
      lines = spy.mock.calls.map(([l]) => String(l));
    } finally {
      spy.mockRestore();
    }
    expect(res.status).toBe(502);
    const body = await res.text();
    expect(body).toBe("the origin cannot be reached (request id 8f1b2c3d4e5f6a7b-AMS)\n");
    expect(res.headers.get("x-request-id")).toBe("8f1b2c3d4e5f6a7b-AMS");
    const line = lines.find((l) => l.includes('"msg":"base.origin-failed"'));
    expect(JSON.parse(line!)).toMatchObject({ requestId: "8f1b2c3d4e5f6a7b-AMS", kind: "connect" });
  });

  it("a proxy route whose backend is down: the body names neither the backend nor the runtime error", async () => {
    await backend(1, "down");
    const res = await send(routeOf({ prefix: "/e/", backends: [backendUrl(1)] }), "/e/x");
    expect(res.status).toBe(502);
    const body = await res.text();
    expect(body).not.toContain(new URL(backendUrl(1)).host);
    expect(body).not.toMatch(/127\.0\.0\.1|connect|Network|lost|refused/i);
    expect(body).toContain(`(request id ${res.headers.get("x-request-id")})`);
  });
});
