// Shared metas (store/meta-memo.ts) and the whole-file answer fields kept with them
// (store/respond.ts): a hot file's hit parses no JSON and builds no header list, and
// still answers exactly what a fresh parse would.
import { env } from "cloudflare:workers";
import { createExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { MetaMemo } from "../../src/store/meta-memo";
import { metaToRecord, parseMeta, type StoredMeta } from "../../src/store/meta";
import { respondFromCopy } from "../../src/store/respond";
import type { StoredCopy } from "../../src/store/copy";
import { putBody, uniquePath } from "../support/origin";
import { eventually } from "../support/node";

const META: StoredMeta = {
  key: "/shared/a.bin",
  version: "v-0123456789abcdef",
  etag: '"e1"',
  lastModified: "Tue, 01 Dec 2026 10:00:00 GMT",
  length: 5,
  contentType: "application/octet-stream",
  cacheControl: "public, max-age=60",
  sha256: "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
  storedAt: 1_800_000_000_000,
  chunkSize: 8 * 1024 * 1024,
  fill: "f00dfeedf00dfeed",
};
const TEXT = metaToRecord(META).meta!;

function copyOf(meta: StoredMeta): StoredCopy {
  const bytes = () => new Response("hello").body;
  return { tier: "cache-api", meta, body: { full: async () => bytes(), range: async () => bytes(), dispose: () => {} } };
}

const get = (headers: Record<string, string> = {}, method = "GET") => new Request("http://node.test/shared/a.bin", { method, headers });
const fieldsOf = (res: Response) => [...res.headers].sort(([a], [b]) => a.localeCompare(b));

describe("MetaMemo", () => {
  it("gives one frozen meta per text, parsed once, equal to a fresh parse", () => {
    const memo = new MetaMemo();
    let parses = 0;
    const counted = (t: string) => (parses++, parseMeta(t));
    const a = memo.parse(TEXT, counted);
    const b = memo.parse(TEXT, counted);
    expect(a).toBe(b);
    expect(parses).toBe(1);
    expect(a).toEqual(parseMeta(TEXT));
    expect(Object.isFrozen(a)).toBe(true);
    // No request can change what another one reads.
    expect(() => {
      (a as StoredMeta).length = 1;
    }).toThrow(TypeError);
  });

  it("keeps nothing for a text that is not a meta", () => {
    const memo = new MetaMemo();
    let parses = 0;
    const counted = (t: string) => (parses++, parseMeta(t));
    expect(memo.parse("{not json", counted)).toBeNull();
    expect(memo.parse('{"version":1}', counted)).toBeNull();
    expect(memo.parse("{not json", counted)).toBeNull();
    expect(parses).toBe(3);
  });

  it("is bounded: past 1000 texts the oldest is parsed again", () => {
    const memo = new MetaMemo();
    const first = memo.parse(TEXT, parseMeta);
    for (let i = 0; i < 1000; i++) memo.parse(metaToRecord({ ...META, key: `/shared/${i}` }).meta!, parseMeta);
    const again = memo.parse(TEXT, parseMeta);
    expect(again).toEqual(first);
    expect(again).not.toBe(first);
  });
});

describe("whole-file answers from a shared meta", () => {
  it("carry the same fields as from a meta of its own, with each answer's Cache-Status", async () => {
    const shared = new MetaMemo().parse(TEXT, parseMeta)!;
    const own = await respondFromCopy(get(), copyOf(parseMeta(TEXT)!), { cacheStatus: "n; hit; ttl=60" });
    const first = await respondFromCopy(get(), copyOf(shared), { cacheStatus: "n; hit; ttl=60" });
    const second = await respondFromCopy(get(), copyOf(shared), { cacheStatus: "n; hit; ttl=60" });
    const later = await respondFromCopy(get(), copyOf(shared), { cacheStatus: "n; hit; ttl=59" });
    expect(fieldsOf(first!)).toEqual(fieldsOf(own!));
    expect(fieldsOf(second!)).toEqual(fieldsOf(own!));
    expect(first!.headers.get("content-length")).toBe("5");
    expect(first!.headers.get("repr-digest")).toMatch(/^sha-256=:/);
    expect(later!.headers.get("cache-status")).toBe("n; hit; ttl=59");
    expect(await second!.text()).toBe("hello");
  });

  it("are each the caller's own: changing one answer's fields leaves the next untouched", async () => {
    const shared = new MetaMemo().parse(TEXT, parseMeta)!;
    const first = await respondFromCopy(get(), copyOf(shared), { cacheStatus: "n; hit" });
    first!.headers.set("x-changed", "1");
    first!.headers.delete("etag");
    const next = await respondFromCopy(get(), copyOf(shared), { cacheStatus: "n; hit" });
    expect(next!.headers.has("x-changed")).toBe(false);
    expect(next!.headers.get("etag")).toBe('"e1"');
  });

  it("leave the other answers as they were: HEAD, 304, 206 and 416 from a shared meta", async () => {
    const shared = new MetaMemo().parse(TEXT, parseMeta)!;
    const status = { cacheStatus: "n; hit" };
    const head = await respondFromCopy(get({}, "HEAD"), copyOf(shared), status);
    expect(head!.status).toBe(200);
    expect(head!.headers.get("content-length")).toBe("5");
    const notModified = await respondFromCopy(get({ "if-none-match": '"e1"' }), copyOf(shared), status);
    expect(notModified!.status).toBe(304);
    expect(notModified!.headers.has("content-type")).toBe(false);
    expect(notModified!.headers.get("etag")).toBe('"e1"');
    const part = await respondFromCopy(get({ range: "bytes=1-2" }), copyOf(shared), status);
    expect(part!.status).toBe(206);
    expect(part!.headers.get("content-range")).toBe("bytes 1-2/5");
    expect(part!.headers.has("accept-ranges")).toBe(false);
    const none = await respondFromCopy(get({ range: "bytes=9-" }), copyOf(shared), status);
    expect(none!.status).toBe(416);
    expect(none!.headers.has("etag")).toBe(false);
    // The whole-file fields kept meanwhile are untouched by those answers' changes.
    const whole = await respondFromCopy(get(), copyOf(shared), status);
    expect(whole!.headers.get("accept-ranges")).toBe("bytes");
    expect(whole!.headers.get("content-type")).toBe("application/octet-stream");
  });
});

describe("the node's hits with shared metas", () => {
  it("answer the same bytes and fields as an isolate that parses its pointer afresh", async () => {
    const path = uniquePath("shared.bin");
    await putBody(path, "0123456789".repeat(100));
    const e = { ...(env as object), REVALIDATE_SECONDS: "31536000" } as unknown as Env;
    const fetchIn = (isolateEnv: Env) => worker.fetch(new Request(`http://node.test${path}`, { headers: { "cf-connecting-ip": "198.51.100.71" } }), isolateEnv, createExecutionContext());
    await (await fetchIn(e)).arrayBuffer();
    // Until this colo's pointer answers (it is put in the background after the fill).
    await eventually(async () => {
      const r = await fetchIn(e);
      await r.arrayBuffer();
      return (r.headers.get("cache-status") ?? "").includes("detail=cache-api");
    });
    const hot = [await fetchIn(e), await fetchIn(e)];
    const fresh = await fetchIn({ ...(e as object) } as Env);
    const withoutStatus = (r: Response) => fieldsOf(r).filter(([n]) => n !== "cache-status");
    for (const r of hot) {
      expect(r.headers.get("cache-status")).toContain("hit");
      expect(withoutStatus(r)).toEqual(withoutStatus(fresh));
      expect(await r.text()).toBe("0123456789".repeat(100));
    }
    expect(await fresh.text()).toBe("0123456789".repeat(100));
  });
});
