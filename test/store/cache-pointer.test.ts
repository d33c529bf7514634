// A colo pointer's meta, purge stamp and inline flag are one field (issue #13: a hit reads
// one header of it, not three); pointers put before that form stay readable.
import { describe, expect, it } from "vitest";
import { CacheTier } from "../../src/store/cache-tier";
import type { StoredMeta } from "../../src/store/meta";

const meta = (key: string): StoredMeta => ({ key, version: "v1", etag: '"e1"', lastModified: null, length: 5, contentType: "application/octet-stream", cacheControl: null, sha256: "", storedAt: 1 });
const bytes = () => new TextEncoder().encode("hello");

async function fresh(name: string): Promise<{ cache: Cache; tier: CacheTier }> {
  const cache = await caches.open(`pointer-test-${name}-${crypto.randomUUID()}`);
  return { cache, tier: new CacheTier(cache) };
}

describe("colo pointer", () => {
  it("round-trips meta, stamp and an inline body through one field", async () => {
    const { cache, tier } = await fresh("inline");
    await tier.putPointer(meta("/a.bin"), bytes(), 7);
    const raw = await cache.match("https://offload-node.cache.invalid/p/a.bin");
    expect(raw?.headers.get("x-offload-purge-gen")).toBeNull();
    expect(raw?.headers.get("x-offload-inline")).toBeNull();
    await raw?.arrayBuffer();
    const hit = await tier.pointer("/a.bin");
    expect(hit?.meta).toEqual(meta("/a.bin"));
    expect(hit?.stamp).toBe(7);
    expect(await new Response(hit!.body).text()).toBe("hello");
    // Its inline body by range, as a slice read does.
    const part = await tier.inlineRange(hit!.meta, 1, 4);
    expect(await new Response(part).text()).toBe("ell");
  });

  it("a pointer without a body names no inline body", async () => {
    const { tier } = await fresh("bare");
    await tier.putPointer(meta("/b.bin"), null);
    const hit = await tier.pointer("/b.bin");
    expect(hit).toMatchObject({ meta: meta("/b.bin"), stamp: 0, body: null });
  });

  it("reads a pointer put in the legacy form (meta JSON, stamp and inline flag apart)", async () => {
    const { cache, tier } = await fresh("legacy");
    const legacy = { "cache-control": "public, max-age=60", "x-offload-meta": JSON.stringify(meta("/c.bin")), "x-offload-purge-gen": "3", "x-offload-inline": "1" };
    await cache.put("https://offload-node.cache.invalid/p/c.bin", new Response(bytes(), { headers: legacy }));
    const hit = await tier.pointer("/c.bin");
    expect(hit?.meta).toEqual(meta("/c.bin"));
    expect(hit?.stamp).toBe(3);
    expect(await new Response(hit!.body).text()).toBe("hello");
    expect(await new Response(await tier.inlineRange(hit!.meta, 0, 2)).text()).toBe("he");
  });

  it("takes a garbled pointer for none", async () => {
    const { cache, tier } = await fresh("garbled");
    for (const value of ["7", "7 i", "x i {not json"]) {
      await cache.put("https://offload-node.cache.invalid/p/d.bin", new Response("", { headers: { "cache-control": "public, max-age=60", "x-offload-meta": value } }));
      expect(await tier.pointer("/d.bin"), value).toBeNull();
    }
  });
});
