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
 *   bench-r2-seq      GET /<p>?keys=<prefix>&n=N -> R2 objects <prefix><i><p>, i < N, one
 *                     after the other into one body: the bare read of a chunked copy
 *   bench-cache-seq   GET /<p>?n=N -> Cache API entries BASE/<p>/<i>, i < N, one after the
 *                     other (the same entries a node's colo tier holds, no logic around them)
 *   bench-tee         GET /<p>  -> fetch(ORIGIN_URL/<p>), body.tee(): one branch to the
 *                     client, one to STORE.put("tee<p>"); no coordination, no guard: what
 *                     every cold request would cost without a node (issue #12)
 *   bench-tee-checked GET /<p>?chunk=N -> the same tee, the R2 copy put as N-byte pieces
 *                     each carrying its SHA-256 (as the node's filler puts chunks)
 *   bench-admin       set-up only, never timed: PUT /cache/<p> primes the baseline Cache
 *                     API entry, GET /r2-list?prefix= lists R2 keys, POST /cache-from-r2
 *                     copies R2 objects into baseline Cache API entries, POST /r2-concat
 *                     writes R2 objects one after the other into one new object (a
 *                     chunked copy as a node stored it before chunking), POST /r2-delete
 *                     deletes R2 keys, POST /limiters takes one lease in each of N fresh
 *                     guard objects (the node's ConcurrencyLimiter class)
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
      const out = [];
      let cursor;
      do {
        const listed = await env.STORE.list({ prefix: url.searchParams.get("prefix") ?? "", cursor });
        for (const o of listed.objects) out.push({ key: o.key, size: o.size });
        cursor = listed.truncated ? listed.cursor : undefined;
      } while (cursor);
      return Response.json(out);
    }
    // {keys: [...], as: "/p"}: R2 object keys[i] -> baseline Cache API entry BASE/p/i, same bytes.
    if (req.method === "POST" && url.pathname === "/cache-from-r2") {
      const { keys, as } = await req.json();
      let bytes = 0;
      for (const [i, key] of keys.entries()) {
        const o = await env.STORE.get(key);
        if (!o) return new Response("bench-admin: no R2 object " + key + "\\n", { status: 404 });
        const headers = { "content-length": String(o.size), "cache-control": "public, max-age=31536000" };
        await caches.default.put(${JSON.stringify(BASELINE_CACHE_BASE)} + as + "/" + i, new Response(o.body, { headers }));
        bytes += o.size;
      }
      return Response.json({ entries: keys.length, bytes });
    }
    // {keys: [...], as: "k"}: one R2 object "k" with the bytes of keys[0], keys[1], ... in order.
    if (req.method === "POST" && url.pathname === "/r2-concat") {
      const { keys, as } = await req.json();
      const heads = await Promise.all(keys.map((k) => env.STORE.head(k)));
      if (heads.some((h) => !h)) return new Response("bench-admin: missing R2 object\\n", { status: 404 });
      const bytes = heads.reduce((a, h) => a + h.size, 0);
      const { readable, writable } = new FixedLengthStream(bytes);
      const copying = (async () => {
        for (const key of keys) await (await env.STORE.get(key)).body.pipeTo(writable, { preventClose: true });
        await writable.close();
      })();
      await Promise.all([env.STORE.put(as, readable), copying]);
      return Response.json({ key: as, bytes });
    }
    if (req.method === "POST" && url.pathname === "/r2-delete") {
      const { keys } = await req.json();
      for (let i = 0; i < keys.length; i += 1000) await env.STORE.delete(keys.slice(i, i + 1000));
      return Response.json({ deleted: keys.length });
    }
    // {count, prefix, limit, ttlMs}: one lease in each of \`count\` fresh guard objects
    // (the node's ConcurrencyLimiter), held until the ttl; nothing streams.
    if (req.method === "POST" && url.pathname === "/limiters") {
      const { count, prefix, limit, ttlMs } = await req.json();
      let held = 0;
      for (let i = 0; i < count; i += 50) {
        const batch = Array.from({ length: Math.min(50, count - i) }, (_, j) =>
          env.LIMITERS.get(env.LIMITERS.idFromName(prefix + (i + j))).acquire(limit, ttlMs));
        for (const r of await Promise.all(batch)) if (r.ok) held++;
      }
      return Response.json({ held });
    }
    return new Response("bench-admin: unknown endpoint\\n", { status: 404 });
  },
};`;

// Sequential reads into a FixedLengthStream: the answer carries Content-Length like the
// node's, and awaiting each pipeTo is the back-pressure (one entry read at a time).
const r2Seq = `
export default {
  async fetch(req, env, ctx) {
    const url = new URL(req.url);
    const path = decodeURIComponent(url.pathname);
    const prefix = url.searchParams.get("keys") ?? "";
    const n = Number(url.searchParams.get("n") ?? "0");
    const heads = await Promise.all(Array.from({ length: n }, (_, i) => env.STORE.head(prefix + i + path)));
    if (n === 0 || heads.some((h) => !h)) return new Response("baseline: missing R2 object\\n", { status: 404 });
    const { readable, writable } = new FixedLengthStream(heads.reduce((a, h) => a + h.size, 0));
    ctx.waitUntil((async () => {
      for (let i = 0; i < n; i++) {
        const o = await env.STORE.get(prefix + i + path);
        await o.body.pipeTo(writable, { preventClose: true });
      }
      await writable.close();
    })().catch((e) => writable.abort(e).catch(() => {})));
    return new Response(readable);
  },
};`;

const cacheSeq = `
export default {
  async fetch(req, env, ctx) {
    const url = new URL(req.url);
    const n = Number(url.searchParams.get("n") ?? "0");
    const size = Number(url.searchParams.get("size") ?? "0");
    const base = ${JSON.stringify(BASELINE_CACHE_BASE)} + url.pathname + "/";
    // Sizes are given, not looked up: the node knows its chunk sizes from the meta too.
    const { readable, writable } = new FixedLengthStream(size);
    ctx.waitUntil((async () => {
      for (let i = 0; i < n; i++) {
        const hit = await caches.default.match(base + i);
        if (!hit) throw new Error("baseline: entry " + i + " not in cache");
        await hit.body.pipeTo(writable, { preventClose: true });
      }
      await writable.close();
    })().catch((e) => writable.abort(e).catch(() => {})));
    return new Response(readable);
  },
};`;

// The bare cold path of issue #12: one origin body per request, teed to client and R2.
// R2 needs a known length, so the store branch goes through a FixedLengthStream.
const tee = `
export default {
  async fetch(req, env, ctx) {
    const path = new URL(req.url).pathname;
    const res = await fetch(env.ORIGIN_URL + path, { headers: { "accept-encoding": "identity" } });
    const length = Number(res.headers.get("content-length"));
    if (!res.ok || !res.body || !Number.isFinite(length)) return new Response("baseline: origin " + res.status + "\\n", { status: 502 });
    const [toClient, toStore] = res.body.tee();
    const sized = new FixedLengthStream(length);
    ctx.waitUntil(Promise.all([toStore.pipeTo(sized.writable), env.STORE.put("tee" + path, sized.readable)]));
    return new Response(toClient, { headers: { "content-length": String(length), "content-type": res.headers.get("content-type") ?? "application/octet-stream" } });
  },
};`;

// The same bare tee, its R2 copy written the way the node's filler writes one: pieces of
// ?chunk= bytes, each put with its SHA-256 for R2 to check, one put in flight while the
// next piece arrives. Miniflare's R2 checks that hash in a JavaScript transform on the
// one workerd thread the node also runs on (on Cloudflare, R2 checks it server-side):
// figure 5's info row shows how much of the node's cold time is that check.
const teeChecked = `
export default {
  async fetch(req, env, ctx) {
    const url = new URL(req.url);
    const chunk = Number(url.searchParams.get("chunk"));
    const res = await fetch(env.ORIGIN_URL + url.pathname, { headers: { "accept-encoding": "identity" } });
    const length = Number(res.headers.get("content-length"));
    if (!res.ok || !res.body || !Number.isFinite(length) || !(chunk > 0)) return new Response("baseline: origin " + res.status + "\\n", { status: 502 });
    const [toClient, toStore] = res.body.tee();
    ctx.waitUntil((async () => {
      const reader = toStore.getReader();
      let index = 0, at = 0, filled = 0, buffer = new Uint8Array(Math.min(chunk, length)), previous = Promise.resolve();
      const put = async (bytes, i) => env.STORE.put("teec" + url.pathname + "/" + i, bytes, { sha256: await crypto.subtle.digest("SHA-256", bytes) });
      for (let r = await reader.read(); !r.done; r = await reader.read()) {
        let piece = r.value;
        while (piece.byteLength > 0) {
          const n = Math.min(buffer.byteLength - filled, piece.byteLength);
          buffer.set(piece.subarray(0, n), filled);
          filled += n;
          piece = piece.subarray(n);
          if (filled === buffer.byteLength) {
            await previous;
            previous = put(buffer, index++);
            at += filled;
            filled = 0;
            buffer = new Uint8Array(Math.min(chunk, length - at));
          }
        }
      }
      await previous;
    })());
    return new Response(toClient, { headers: { "content-length": String(length), "content-type": res.headers.get("content-type") ?? "application/octet-stream" } });
  },
};`;

/** name -> module source; the bench adds bindings (STORE, ORIGIN_URL) to each. */
export const BASELINE_SCRIPTS = {
  "bench-cache": cacheMatch,
  "bench-cache-head": cacheMatchHead,
  "bench-r2": r2PassThrough,
  "bench-r2-seq": r2Seq,
  "bench-cache-seq": cacheSeq,
  "bench-tee": tee,
  "bench-tee-checked": teeChecked,
  "bench-admin": admin,
};
