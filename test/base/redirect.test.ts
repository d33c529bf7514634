import { describe, expect, it } from "vitest";
import { verifyToken, TOKEN_PARAM } from "../../src/signing/redirect-token";
import { behave, putBody, putFile, stats, uniquePath } from "../support/origin";
import { baseFetch, baseWithVars, mirrorUrl, nodeUrl, originUrl } from "./support";

const KEYS = [{ id: "k1", secret: "node-test-secret-0001" }];

describe("base: offload decision and redirect", () => {
  it("redirects a big file with 307 to a node: same path and query, absolute, signed, not cacheable", async () => {
    const path = uniquePath("big.bin");
    await putFile(path, 300_000);
    const res = await baseFetch(`${path}?v=2`);
    expect(res.status).toBe(307);
    const location = new URL(res.headers.get("location")!);
    expect([nodeUrl(0), nodeUrl(1)]).toContain(location.origin);
    expect(location.pathname).toBe(path);
    expect(location.searchParams.get("v")).toBe("2");
    expect(res.headers.get("cache-control")).toBe("private, no-store");
    const check = await verifyToken(KEYS, location.searchParams.get(TOKEN_PARAM), { path, now: Math.floor(Date.now() / 1000) });
    expect(check.ok).toBe(true);
    await res.text();
  });

  it("keeps the query, in canonical form (safe for Location and Link, what the nodes key on)", async () => {
    const path = uniquePath("query.bin");
    await putFile(path, 200_000);
    // %41 is "A" (RFC 3986 §6.2.2.2); before issue #11 the query was passed on as sent.
    const res = await baseFetch(`${path}?a=<x>&b="y"&c=%41&d=%2f`);
    const location = res.headers.get("location")!;
    expect(location).toContain(`${path}?a=%3Cx%3E&b=%22y%22&c=A&d=%2F&offload_token=`);
    expect(res.headers.get("link")).toContain(`${path}?a=%3Cx%3E&b=%22y%22&c=A&d=%2F&offload_token=`);
    await res.text();
  });

  it("sends the same path to the same node (hash balancer) and spreads paths over both", async () => {
    const seen = new Map<string, string>();
    for (let i = 0; i < 24; i++) {
      const path = uniquePath(`spread-${i}.bin`);
      await putFile(path, 150_000);
      const a = new URL((await baseFetch(path)).headers.get("location")!).origin;
      const b = new URL((await baseFetch(path)).headers.get("location")!).origin;
      expect(b).toBe(a);
      seen.set(path, a);
    }
    expect(new Set(seen.values()).size).toBe(2);
  });

  it("serves small files, excluded types, agents, clients and paths itself, streamed from the origin", async () => {
    const small = uniquePath("small.txt");
    await putBody(small, "tiny file\n");
    const res = await baseFetch(small);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-status")).toBe("test-base; fwd=bypass; detail=small");
    expect(await res.text()).toBe("tiny file\n");

    const big = uniquePath("big.bin");
    await putFile(big, 200_000);
    const cases: Array<[Record<string, string>, Record<string, string>, string]> = [
      [{ OFFLOAD_EXCLUDE_USER_AGENTS: "monitor" }, { "user-agent": "SiteMonitor/1.0" }, "excluded-agent"],
      [{ OFFLOAD_EXCLUDE_CLIENTS: "10.0.0.0/8" }, { "cf-connecting-ip": "10.1.2.3" }, "excluded-client"],
      [{ OFFLOAD_EXCLUDE: "/t/*" }, {}, "excluded-path"],
      [{ OFFLOAD_INCLUDE: "/iso/*" }, {}, "not-included"],
      [{ OFFLOAD_EXCLUDE_TYPES: "application/octet-stream" }, {}, "excluded-type"],
    ];
    for (const [vars, headers, reason] of cases) {
      const r = await baseWithVars(vars, big, { headers });
      expect(r.status, reason).toBe(200);
      expect(r.headers.get("cache-status")).toBe(`test-base; fwd=bypass; detail=${reason}`);
      expect((await r.arrayBuffer()).byteLength).toBe(200_000);
    }
  });

  it("remembers sizes briefly instead of asking the origin on every request", async () => {
    const path = uniquePath("remembered.bin");
    await putFile(path, 200_000);
    for (let i = 0; i < 5; i++) await (await baseFetch(path)).text();
    expect((await stats(path)).heads).toBe(1);
  });

  it("can answer 302 instead of 307", async () => {
    const path = uniquePath("found.bin");
    await putFile(path, 200_000);
    const res = await baseWithVars({ REDIRECT_STATUS: "302" }, path);
    expect(res.status).toBe(302);
    await res.text();
  });

  it("passes other methods and their bodies through, and rewrites the origin's Location to the base (path-absolute without PUBLIC_URL)", async () => {
    const path = uniquePath("form");
    const post = await baseFetch(path, { method: "POST", body: "a=1" });
    expect(post.status).toBe(405); // the test origin's own answer, passed on
    expect(post.headers.get("allow")).toContain("GET");
    await post.text();

    const moved = uniquePath("moved.bin");
    await putBody(moved, "x");
    await behave(moved, { status: 301, location: `${originUrl}/new/place.bin` });
    const res = await baseFetch(moved, { headers: { host: "evil.example" } });
    expect(res.status).toBe(301);
    // Not "http://evil.example/…" nor the request's own host: no PUBLIC_URL, no host (issue #11 L3).
    expect(res.headers.get("location")).toBe("/new/place.bin");
    await res.text();
    const pub = await baseWithVars({ PUBLIC_URL: "https://downloads.example.org" }, moved);
    expect(pub.headers.get("location")).toBe("https://downloads.example.org/new/place.bin");
    await pub.text();
  });

  it("refuses traversal and encoded slashes with 400 and never redirects anywhere but configured targets", async () => {
    for (const bad of ["/a%2f..%2fsecret", "/x%5c..", "/y%00"]) {
      const res = await baseFetch(bad);
      expect(res.status).toBe(400);
      expect(await res.text()).toMatch(/^bad request path/);
    }
    const path = uniquePath("hosty.bin");
    await putFile(path, 200_000);
    const spoofed = await baseFetch(path, { headers: { host: "attacker.example", "x-forwarded-host": "attacker.example" } });
    expect([nodeUrl(0), nodeUrl(1), mirrorUrl]).toContain(new URL(spoofed.headers.get("location")!).origin);
    await spoofed.text();
  });

  it("names the field of an invalid configuration", async () => {
    for (const [vars, field] of [
      [{ OFFLOAD_NODES: '[{"url":"ftp://x"}]' }, "OFFLOAD_NODES[0].url"],
      [{ BALANCER: "fastest" }, "BALANCER"],
      [{ MIRRORS: "not json, http://" }, "MIRRORS"],
      [{ SIGNING_KEYS: "short:abc" }, "SIGNING_KEYS"],
      [{ FALLBACK_URL: "javascript:alert(1)" }, "FALLBACK_URL"],
    ] as const) {
      const res = await baseWithVars(vars, "/x.bin");
      expect(res.status).toBe(500);
      expect(await res.text()).toContain(field);
    }
  });
});
