// The forwarding policy's public host (issue #11 review: a PUBLIC_URL with a path) and
// its per-request cost (one pass over the client's headers, a request id only when one
// is needed). Real base worker, real echo backends; the pure helper called directly too.
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { CLIENT_CLAIMS, upstreamHeaders } from "../../../src/http/forwarding";
import { HOP_BY_HOP_HEADERS } from "../../../src/http/hop-by-hop";
import { baseWithVars } from "../support";
import { backendUrl, echo, resetBackends, routeOf, send } from "./support";

beforeEach(resetBackends);
afterEach(resetBackends);

describe("X-Forwarded-Host and Forwarded host= name the public URL's host only", () => {
  it("the base's pass-through with PUBLIC_URL=https://cdn.example.com/mirror", async () => {
    const vars = { ORIGIN_URL: backendUrl(0), PROXY_ROUTES: "", PUBLIC_URL: "https://cdn.example.com:8443/mirror" };
    const seen = await echo(await baseWithVars(vars, "/form", { method: "POST", body: "a=1" }));
    expect(seen.headers["x-forwarded-host"]).toBe("cdn.example.com:8443");
    expect(seen.headers["x-forwarded-proto"]).toBe("https");
  });

  it("a proxy route with RFC 7239 Forwarded", async () => {
    const route = routeOf({ prefix: "/fwd/", backends: [backendUrl(0)], forwarded: true });
    const seen = await echo(await send(route, "/fwd/x", { publicOrigin: "https://cdn.example.com", ip: "198.51.100.7" }));
    expect(seen.headers["forwarded"]).toBe("for=198.51.100.7;proto=https;host=cdn.example.com");
    const h = upstreamHeaders(new Headers({ "cf-connecting-ip": "198.51.100.7" }), { publicOrigin: "http://cdn.example.com/mirror/sub", trustedProxies: [], forwarded: true });
    expect(h.get("x-forwarded-host")).toBe("cdn.example.com");
    expect(h.get("x-forwarded-proto")).toBe("http");
    expect(h.get("forwarded")).toBe("for=198.51.100.7;proto=http;host=cdn.example.com");
  });
});

describe("per-request cost of forwarding", () => {
  it("a proxied request that succeeds makes no request id (no crypto.randomUUID without CF-Ray)", async () => {
    const spy = vi.spyOn(crypto, "randomUUID");
    try {
      const res = await send(routeOf({ prefix: "/id/", backends: [backendUrl(0)] }), "/id/x");
      expect(res.status).toBe(200);
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });

  it("a failed one still names one id in its answer, the same in X-Request-Id", async () => {
    const res = await send(routeOf({ prefix: "/id/", backends: ["http://127.0.0.1:1"] }), "/id/x");
    expect(res.status).toBe(502);
    const id = res.headers.get("x-request-id")!;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(await res.text()).toContain(`(request id ${id})`);
  });

  it("upstreamHeaders removes only the fields present (one pass over the client's names), not every name it knows", () => {
    const spy = vi.spyOn(Headers.prototype, "delete");
    try {
      const opts = { publicOrigin: "https://www.example.com", trustedProxies: [], forwarded: true };
      upstreamHeaders(new Headers({ accept: "*/*", "user-agent": "curl/8" }), opts);
      expect(spy).not.toHaveBeenCalled();
      const incoming = new Headers({ "x-real-ip": "1.2.3.4", connection: "keep-alive, x-secret", "x-secret": "s", accept: "*/*", host: "h", "cf-connecting-ip": "198.51.100.7" });
      upstreamHeaders(incoming, opts);
      expect(spy.mock.calls.map(([n]) => n).sort()).toEqual(["cf-connecting-ip", "connection", "host", "x-real-ip", "x-secret"]);
    } finally {
      spy.mockRestore();
    }
  });

  it("property: every other field is kept with its value; no hop-by-hop, Connection-named or client claim survives", () => {
    const dropped = [...HOP_BY_HOP_HEADERS, ...CLIENT_CLAIMS, "host", "cf-connecting-ip"];
    const name = fc.oneof(fc.constantFrom(...dropped, "accept", "cookie", "x-secret", "X-Secret", "range", "content-type"), fc.stringMatching(/^[a-z][a-z0-9-]{0,12}$/));
    const value = fc.stringMatching(/^[!-~]([ !-~]{0,20}[!-~])?$/);
    fc.assert(
      fc.property(fc.array(fc.tuple(name, value), { maxLength: 12 }), fc.option(fc.array(name, { maxLength: 3 })), (fields, conn) => {
        const incoming = new Headers();
        for (const [n, v] of fields) incoming.append(n, v);
        if (conn) incoming.set("connection", conn.join(", "));
        const named = new Set((incoming.get("connection") ?? "").split(",").map((s) => s.trim().toLowerCase()));
        const out = upstreamHeaders(incoming, { publicOrigin: "", trustedProxies: [], forwarded: false });
        for (const [n, v] of incoming) {
          if (dropped.includes(n) || named.has(n)) {
            if (n !== "x-forwarded-for") expect(out.has(n), n).toBe(false);
          } else expect(out.get(n), n).toBe(v);
        }
        for (const [n] of out) expect(incoming.has(n) || n === "x-forwarded-for", n).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
