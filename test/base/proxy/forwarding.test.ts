import { beforeEach, describe, expect, it } from "vitest";
import { parseCidr } from "../../../src/net/ip";
import { forwardedChain, forwardedHeader } from "../../../src/http/forwarding";
import { backendUrl, echo, PUBLIC, resetBackends, routeOf, send } from "./support";

const cidrs = (...s: string[]) => s.map((x) => parseCidr(x)!);

describe("forwardedChain (X-Forwarded-For through trusted hops only)", () => {
  const trusted = cidrs("10.0.0.0/8", "2001:db8:f::/48");

  it("an untrusted peer's claims are dropped: only the peer is reported", () => {
    expect(forwardedChain("1.2.3.4, 10.0.0.1", "198.51.100.7", trusted)).toEqual(["198.51.100.7"]);
    expect(forwardedChain(null, "198.51.100.7", [])).toEqual(["198.51.100.7"]);
  });

  it("walks from the right while the writer of each entry is trusted, keeping the first untrusted hop", () => {
    expect(forwardedChain("6.6.6.6, 203.0.113.9, 10.0.0.1", "10.0.0.2", trusted)).toEqual(["203.0.113.9", "10.0.0.1", "10.0.0.2"]);
    expect(forwardedChain("203.0.113.9, 2001:db8:f::5", "10.0.0.2", trusted)).toEqual(["203.0.113.9", "2001:db8:f::5", "10.0.0.2"]);
    // A trusted proxy's peer claim that is not an address ends the walk.
    expect(forwardedChain("203.0.113.9, unknown", "10.0.0.2", trusted)).toEqual(["10.0.0.2"]);
    // Ports and brackets are dropped; a peer Cloudflare already appended counts once.
    expect(forwardedChain("[2001:db8::9]:443, 10.0.0.2", "10.0.0.2", trusted)).toEqual(["2001:db8::9", "10.0.0.2"]);
    expect(forwardedChain("192.0.2.1:5000", "10.0.0.2", trusted)).toEqual(["192.0.2.1", "10.0.0.2"]);
  });

  it("nothing without a peer address", () => {
    expect(forwardedChain("1.2.3.4", null, trusted)).toEqual([]);
  });
});

describe("forwardedHeader (RFC 7239 §4)", () => {
  it("one element per hop, IPv6 bracketed and quoted, proto and host on this proxy's element", () => {
    expect(forwardedHeader(["192.0.2.60"], "https", "www.example.com")).toBe("for=192.0.2.60;proto=https;host=www.example.com");
    expect(forwardedHeader(["2001:db8::1", "10.0.0.2"], "http", "www.example.com:8080")).toBe('for="[2001:db8::1]", for=10.0.0.2;proto=http;host="www.example.com:8080"');
    expect(forwardedHeader([], "https", "a.example")).toBe("for=unknown;proto=https;host=a.example");
  });
});

describe("proxy: forwarding headers seen by a real backend", () => {
  beforeEach(resetBackends);

  it("replaces a forged X-Forwarded-For (and X-Forwarded-Host/-Proto, Forwarded, X-Real-IP) from an untrusted client", async () => {
    const route = routeOf({ prefix: "/fwd/", backends: [backendUrl(0)], trustedProxies: ["10.0.0.0/8"] });
    const seen = await echo(
      await send(route, "/fwd/x", {
        ip: "198.51.100.7",
        headers: { "x-forwarded-for": "10.0.0.1, 1.2.3.4", "x-forwarded-host": "evil.example", "x-forwarded-proto": "http", forwarded: "for=1.2.3.4", "x-real-ip": "1.2.3.4" },
      }),
    );
    expect(seen.headers["x-forwarded-for"]).toBe("198.51.100.7");
    expect(seen.headers["x-forwarded-host"]).toBe("www.example.com");
    expect(seen.headers["x-forwarded-proto"]).toBe("https");
    expect(seen.headers["forwarded"]).toBeUndefined();
    expect(seen.headers["x-real-ip"]).toBeUndefined();
    expect(seen.headers["cf-connecting-ip"]).toBeUndefined();
  });

  it("keeps the hop chain written by trusted proxies, and only that", async () => {
    const route = routeOf({ prefix: "/fwd/", backends: [backendUrl(0)], trustedProxies: ["10.0.0.0/8"] });
    const seen = await echo(await send(route, "/fwd/x", { ip: "10.0.0.2", headers: { "x-forwarded-for": "6.6.6.6, 203.0.113.9, 10.0.0.1" } }));
    expect(seen.headers["x-forwarded-for"]).toBe("203.0.113.9, 10.0.0.1, 10.0.0.2");
  });

  it("emits Forwarded when the route asks for it, IPv6 quoted, host and proto of the public URL", async () => {
    const route = routeOf({ prefix: "/fwd/", backends: [backendUrl(0)], forwarded: true, trustedProxies: ["2001:db8:f::/48"] });
    let seen = await echo(await send(route, "/fwd/x", { ip: "2001:db8::1" }));
    expect(seen.headers["forwarded"]).toBe('for="[2001:db8::1]";proto=https;host=www.example.com');
    expect(seen.headers["x-forwarded-for"]).toBe("2001:db8::1");
    seen = await echo(await send(route, "/fwd/x", { ip: "2001:db8:f::2", headers: { "x-forwarded-for": "192.0.2.60" }, publicOrigin: "http://127.0.0.1:8787" }));
    expect(seen.headers["forwarded"]).toBe('for=192.0.2.60, for="[2001:db8:f::2]";proto=http;host="127.0.0.1:8787"');
    expect(seen.headers["x-forwarded-host"]).toBe("127.0.0.1:8787");
  });

  it("strips hop-by-hop fields both ways, Connection-named ones included, and keeps the rest", async () => {
    const route = routeOf({ prefix: "/fwd/", backends: [backendUrl(0)] });
    const res = await send(route, "/fwd/x", {
      headers: { connection: "x-private, keep-alive", "x-private": "secret", "keep-alive": "timeout=5", "proxy-authorization": "Basic Zm9vOmJhcg==", te: "trailers", "x-keep": "yes", "x-echo-hop": "1" },
    });
    for (const h of ["connection", "keep-alive", "x-hop-named", "proxy-authenticate"]) expect(res.headers.get(h), h).toBeNull();
    expect(res.headers.get("x-end-to-end")).toBe("kept");
    const seen = await echo(res);
    for (const h of ["connection", "x-private", "keep-alive", "proxy-authorization", "te"]) expect(seen.headers[h], h).toBeUndefined();
    expect(seen.headers["x-keep"]).toBe("yes");
    expect(seen.path).toBe("/fwd/x");
  });

  it("forwards the canonical path and never one outside the route's prefix", async () => {
    const route = routeOf({ prefix: "/fwd/", backends: [backendUrl(0)] });
    const seen = await echo(await send(route, "/fwd//a//b%41?q=1&r"));
    expect(seen.url).toBe("/fwd/a/bA?q=1&r");
    const encodedSlash = await send(route, "/fwd/a%2F..%2Fadmin");
    expect(encodedSlash.status).toBe(400);
    expect(await encodedSlash.text()).toMatch(/^bad request path: /);
    // new Request() resolves "%2e%2e" (WHATWG URL): the path is "/admin", not under /fwd/.
    const outside = await send(route, "/fwd/%2e%2e/admin");
    expect(outside.status).toBe(404);
    expect(await outside.text()).toBe("proxy route /fwd/ does not serve /admin\n");
    expect((await send(routeOf({ prefix: "/fwd/", backends: [backendUrl(0)] }), "/fwd")).status).toBe(200);
    expect(PUBLIC).toBe("https://www.example.com");
  });
});
