import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { putFile, stats, totalStats, uniquePath } from "../support/origin";
import { nodeFetch, streamSha256 } from "../support/node";
import { fetchWithVars } from "../support/app";

const control = (env as unknown as { TEST_CONTROL_URL: string }).TEST_CONTROL_URL;

async function recentFor(path: string): Promise<Array<{ method: string; url: string; hasCookie: boolean; hasAuthorization: boolean; headerNames: string[] }>> {
  const res = await fetch(`${control}/stats?path=${encodeURIComponent(path)}`);
  return ((await res.json()) as { recent: never[] }).recent;
}

describe("bad input gets a clear answer", () => {
  it("refuses methods other than GET and HEAD with 405 and Allow", async () => {
    for (const method of ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"]) {
      const res = await nodeFetch("/anything.bin", { method });
      expect(res.status).toBe(405);
      expect(res.headers.get("allow")).toBe("GET, HEAD");
      expect(res.headers.get("cache-status")).toBe("test-node; fwd=method");
      expect(await res.text()).toMatch(/method not allowed/);
    }
  });

  // Literal "/../" and "%2e%2e" are folded by the WHATWG URL parser before a Request
  // object exists in this test; they are covered by test/http/path.test.ts on raw
  // strings and by the local-stack test over a real socket (curl --path-as-is).
  it("refuses encoded slashes, backslashes and control characters with 400, asking the origin nothing", async () => {
    const before = await totalStats();
    for (const bad of ["/a%2f..%2fetc/passwd", "/a%2F..", "/a%5c..%5cb", "/a%00b.iso", "/x%0d%0aSet-Cookie:%20a=b", "/bad%zzescape", "/%c3%28"]) {
      const res = await nodeFetch(bad);
      expect(res.status, bad).toBe(400);
      expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
      expect(res.headers.get("cache-status")).toBe("test-node; fwd=bypass");
      expect(await res.text()).toMatch(/^bad request path: /);
    }
    const after = await totalStats();
    expect([after.gets, after.heads]).toEqual([before.gets, before.heads]);
  });

  it("never answers 5xx to malformed percent-encodings, base64 or tokens, at any endpoint (issue #11 M1)", async () => {
    const path = uniquePath("enc.bin");
    await putFile(path, 2000);
    const queries = ["offload_token=%", "offload_token=%E0%A4%A", "%", "a=%zz&b=%ff%fe&%=%", "offload_token=k1.%.%.p.%", "offload_token=\u00e9"];
    const headers: Array<Record<string, string>> = [
      { authorization: "Basic %%%", cookie: "a=%zz; b=%" },
      { range: "bytes=%-%", "if-none-match": '"%zz"', "if-modified-since": "%" },
    ];
    const failures: string[] = [];
    const variants: Array<Record<string, string>> = [{}, { REQUIRE_SIGNED_URLS: "true" }, { CACHE_KEY_QUERY: "true", FORWARD_CREDENTIALS: "true" }];
    for (const vars of variants) {
      for (const endpoint of [path, "/.well-known/offload/health", "/%", "/%E0%A4%A.bin"]) {
        for (const method of ["GET", "HEAD", "POST"]) {
          for (const q of queries) {
            for (const h of [{}, ...headers]) {
              const res = await fetchWithVars(vars, `${endpoint}?${q}`, { method, headers: h });
              const text = await res.text();
              if (res.status >= 500) failures.push(`${JSON.stringify(vars)} ${method} ${endpoint}?${q} ${JSON.stringify(h)} -> ${res.status} ${text.trim()}`);
            }
          }
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it("keeps the query string out of the cache key and away from the origin by default", async () => {
    const path = uniquePath("q.bin");
    const file = await putFile(path, 20_000);
    for (const q of ["?a=1", "?b=2", "?cachebust=" + Math.random(), ""]) {
      const res = await nodeFetch(path + q);
      expect(res.status).toBe(200);
      expect((await streamSha256(res)).sha256).toBe(file.sha256);
    }
    expect((await stats(path)).gets).toBe(1);
    expect((await recentFor(path)).every((r) => !r.url.includes("?"))).toBe(true);
  });

  it("keys and forwards the query when CACHE_KEY_QUERY is on", async () => {
    const path = uniquePath("kq.bin");
    await putFile(path, 5000);
    const vars = { CACHE_KEY_QUERY: "true" };
    await (await fetchWithVars(vars, `${path}?v=1`)).arrayBuffer();
    await (await fetchWithVars(vars, `${path}?v=2`)).arrayBuffer();
    await (await fetchWithVars(vars, `${path}?v=1`)).arrayBuffer();
    expect((await stats(path)).gets).toBe(2);
    expect((await recentFor(path)).some((r) => r.url.endsWith("?v=2"))).toBe(true);
  });

  it("does not forward Cookie, Authorization or hop-by-hop headers to the origin", async () => {
    const path = uniquePath("cred.bin");
    await putFile(path, 5000);
    const res = await nodeFetch(path, {
      headers: { cookie: "session=secret", authorization: "Bearer x", connection: "x-private", "x-private": "1", te: "trailers", "proxy-authorization": "Basic y" },
    });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    for (const r of await recentFor(path)) {
      expect(r.hasCookie || r.hasAuthorization).toBe(false);
      expect(r.headerNames).not.toContain("x-private");
      expect(r.headerNames).not.toContain("proxy-authorization");
    }
  });

  it("with FORWARD_CREDENTIALS, credentialed requests reach the origin and bypass the store", async () => {
    const path = uniquePath("private.bin");
    await putFile(path, 5000);
    const vars = { FORWARD_CREDENTIALS: "true" };
    for (let i = 0; i < 2; i++) {
      const res = await fetchWithVars(vars, path, { headers: { cookie: "session=1" } });
      expect(res.headers.get("cache-status")).toContain("detail=credentials");
      await res.arrayBuffer();
    }
    expect((await stats(path)).gets).toBe(2);
    expect((await recentFor(path)).every((r) => r.hasCookie)).toBe(true);
  });

  it("answers every request with the field name when the configuration is invalid", async () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ ORIGIN_URL: "not a url" }, /ORIGIN_URL/],
      [{ ORIGIN_URL: "ftp://example.com" }, /ORIGIN_URL: scheme/],
      [{ MAX_CONNECTIONS_PER_CLIENT: "-1" }, /MAX_CONNECTIONS_PER_CLIENT/],
      [{ REVALIDATE_SECONDS: "soon" }, /REVALIDATE_SECONDS/],
      [{ CONNECTION_ALLOWLIST: "10.0.0.0/33" }, /CONNECTION_ALLOWLIST/],
      [{ CACHE_API_MAX_BYTES: "lots" }, /CACHE_API_MAX_BYTES/],
      // A chunk is one Cache API entry, which must stay below the platform's 512 MB.
      [{ CHUNK_SIZE: String(600 * 1024 * 1024) }, /CHUNK_SIZE/],
      [{ FILL_STALL_SECONDS: "0" }, /FILL_STALL_SECONDS/],
    ];
    for (const [vars, message] of cases) {
      const res = await fetchWithVars(vars, "/x.bin");
      expect(res.status).toBe(500);
      expect(await res.text()).toMatch(message);
    }
  });

  it("exempts allowlisted client networks from the download guard", async () => {
    const path = uniquePath("allow.bin");
    await putFile(path, 4 * 1024 * 1024);
    await streamSha256(await nodeFetch(path));
    const vars = { CONNECTION_ALLOWLIST: "192.0.2.0/24", MAX_CONNECTIONS_PER_CLIENT: "1" };
    const held = await Promise.all([1, 2, 3].map(() => fetchWithVars(vars, path, { ip: "192.0.2.77" })));
    expect(held.map((r) => r.status)).toEqual([200, 200, 200]);
    const other = await Promise.all([1, 2].map(() => fetchWithVars(vars, path, { ip: "198.51.100.77" })));
    expect(other.map((r) => r.status).sort()).toEqual([200, 503]);
    await Promise.all([...held, ...other].map((r) => r.body?.cancel()));
  });
});
