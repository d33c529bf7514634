/**
 * Bare baseline workers: each does only the platform call a node figure is compared
 * with, so "node / baseline" is the cost of the node's own logic on the same runtime.
 * They run in the same Miniflare (workerd) as the node workers, with the same R2 bucket
 * and the same Cache API store.
 *
 *   bench-cache       GET /<p>  -> caches.default.match(BASE/<p>), returned as is
 *   bench-cache-head  GET /<p>  -> the same match + a conditional HEAD to ORIGIN_URL/<p>
 *                                  (what the node does per hit with REVALIDATE_SECONDS=0)
 *   bench-r2          GET /<k>  -> new Response(env.STORE.get(k).body): R2 pass-through
 *   bench-admin       set-up only, never timed: PUT /cache/<p> primes the baseline Cache
 *                     API entry, GET /r2-list?prefix= lists R2 keys
 */

/** URL space of the baseline's own Cache API entries (the node keeps its own). */
export const BASELINE_CACHE_BASE = "https://bench-baseline.invalid";

const cacheMatch = `
export default {
  async fetch(req) {
    const hit = await caches.default.match(${JSON.stringify(BASELINE_CACHE_BASE)} + new URL(req.url).pathname);
    return hit ?? new Response("baseline: not in cache\\n", { status: 404 });
  },
};`;

const cacheMatchHead = `
export default {
  async fetch(req, env) {
    const path = new URL(req.url).pathname;
    const hit = await caches.default.match(${JSON.stringify(BASELINE_CACHE_BASE)} + path);
    if (!hit) return new Response("baseline: not in cache\\n", { status: 404 });
    const etag = hit.headers.get("etag");
    const head = await fetch(env.ORIGIN_URL + path, {
      method: "HEAD",
      headers: { "accept-encoding": "identity", ...(etag ? { "if-none-match": etag } : {}) },
      redirect: "manual",
    });
    head.body?.cancel();
    return hit;
  },
};`;

const r2PassThrough = `
export default {
  async fetch(req, env) {
    const obj = await env.STORE.get(decodeURIComponent(new URL(req.url).pathname.slice(1)));
    return obj ? new Response(obj.body) : new Response("baseline: no such R2 object\\n", { status: 404 });
  },
};`;

const admin = `
export default {
  async fetch(req, env) {
    const url = new URL(req.url);
    if (req.method === "PUT" && url.pathname.startsWith("/cache/")) {
      const path = url.pathname.slice("/cache".length);
      const body = await req.arrayBuffer();
      const headers = new Headers({ "content-length": String(body.byteLength), "cache-control": "public, max-age=31536000" });
      for (const h of ["content-type", "etag", "last-modified"]) if (req.headers.has(h)) headers.set(h, req.headers.get(h));
      await caches.default.put(${JSON.stringify(BASELINE_CACHE_BASE)} + path, new Response(body, { headers }));
      return Response.json({ cached: path, bytes: body.byteLength });
    }
    if (req.method === "GET" && url.pathname === "/r2-list") {
      const listed = await env.STORE.list({ prefix: url.searchParams.get("prefix") ?? "" });
      return Response.json(listed.objects.map((o) => ({ key: o.key, size: o.size })));
    }
    return new Response("bench-admin: unknown endpoint\\n", { status: 404 });
  },
};`;

/** name -> module source; the bench adds bindings (STORE, ORIGIN_URL) to each. */
export const BASELINE_SCRIPTS = {
  "bench-cache": cacheMatch,
  "bench-cache-head": cacheMatchHead,
  "bench-r2": r2PassThrough,
  "bench-admin": admin,
};
