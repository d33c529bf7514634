// Issue #13: on a hit, every step that already holds its answer gives it at once (a value,
// not a promise): each await costs the hit a microtask turn. These tests look at what each
// step returns; the full hit's answers are covered by serve.test.ts and its neighbours.
import { env } from "cloudflare:workers";
import { createExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { checkSignedUrl, type SignedPolicy } from "../../src/node/signed-url";
import { purgeCheck } from "../../src/store/purge-view";
import { Store } from "../../src/store/store";
import { beginGuard } from "../../src/limits/guard";
import { parseNodeConfig } from "../../src/config/node-config";
import { toldAnswer } from "../../src/platform/answer-facts";
import type { StoredMeta } from "../../src/store/meta";

const OPEN: SignedPolicy = { required: false, keys: [], queryKeyed: false, maxTtlSeconds: 3600, requireClient: false };
const streamOf = (text: string) => new Response(text).body!;

describe("node: a hit's steps answer at once", () => {
  it("the signed-URL check: at once when nothing is to be verified, a promise when a token is", async () => {
    const headers = new Headers();
    expect(checkSignedUrl(OPEN, "/f.bin", "", headers)).toEqual({ ok: true, query: "" });
    const required = checkSignedUrl({ ...OPEN, required: true, keys: [{ id: "k1", secret: "node-test-secret-0001" }] }, "/f.bin", "", headers);
    expect(required).toBeInstanceOf(Promise);
    expect(await required).toMatchObject({ ok: false, status: 403 });
  });

  it("the purge check: reads the log once, then answers at once while it is fresh", async () => {
    // A deployment of its own: the log held per env starts empty.
    const check = purgeCheck({ STORE: env.STORE }, 60_000);
    const first = check.purged("/f.bin", 0);
    expect(first).toBeInstanceOf(Promise);
    const verdict = await first;
    expect(check.purged("/f.bin", 0)).toBe(verdict);
  });

  it("an inline body: at once; a body still to be read: a promise", async () => {
    const store = new Store(env.STORE, caches.default, { cacheMaxBytes: 1 << 20, waitUntil: () => {} });
    const meta = { key: "/inline.bin", version: "v1", etag: '"v1"', lastModified: null, length: 5, contentType: null, cacheControl: null, sha256: "", storedAt: Date.now() } as unknown as StoredMeta;
    const inline = store.copy(meta, "cache-api", streamOf("hello")).body.full();
    expect(inline).toBeInstanceOf(ReadableStream);
    await new Response(inline as ReadableStream).arrayBuffer();
    const fromTiers = store.copy(meta, "r2").body.full();
    expect(fromTiers).toBeInstanceOf(Promise);
    await fromTiers;
  });

  it("the download guard: a small answer passes at once, a counted one waits for its slot", async () => {
    const config = parseNodeConfig({ ORIGIN_URL: "http://origin.test", GUARD_MIN_BYTES: "1000" });
    const ctx = createExecutionContext();
    const guarded = (length: number) => {
      const guard = beginGuard({ config, ns: env.CONCURRENCY, env, method: "GET", headers: new Headers({ "cf-connecting-ip": "198.51.100.20" }), path: "/g.bin", ctx });
      return guard.finish(toldAnswer(streamOf("x".repeat(length)), 200, { "content-length": String(length) }));
    };
    const small = guarded(10);
    expect(small).toBeInstanceOf(Response);
    await (small as Response).arrayBuffer();
    const big = guarded(2000);
    expect(big).toBeInstanceOf(Promise);
    const res = await big;
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  });
});
