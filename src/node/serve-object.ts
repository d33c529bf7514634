import type { NodeConfig } from "../config/node-config";
import { cacheStatus } from "../http/cache-status";
import { evaluatePreconditions } from "../http/conditional";
import type { FollowResult } from "./fill/fill-coordinator";
import type { OriginHead, StoredMeta } from "./meta";
import { passThrough } from "./pass-through";
import { plain } from "../http/plain";
import { opaqueError, requestId } from "../http/request-id";
import { representationHeaders, respondFromCopy } from "./respond";
import { revalidate } from "./revalidate";
import { CacheTier } from "./tiers/cache-tier";
import { R2Tier } from "./tiers/r2-tier";
import type { StoredCopy } from "./tiers/tier";

export interface ObjectRequest {
  req: Request;
  /** Cache key, equal to the origin target (canonical path, plus query when keyed). */
  key: string;
  config: NodeConfig;
  env: Env;
  ctx: ExecutionContext;
  /** Told the body size as soon as it is known (the guard then asks for a slot early). */
  sizeKnown?: (length: number) => void;
}

/**
 * mod_offload's node, per request: find our copy (Cache API, then R2), ask the base
 * origin whether it is still good (conditional HEAD), then serve it, refill it, purge
 * it, or fall back to it when the origin is down.
 */
export async function serveObject(o: ObjectRequest): Promise<Response> {
  const { config, key } = o;
  const node = config.nodeId;
  const cache = new CacheTier(caches.default);
  const r2 = new R2Tier(o.env.STORE);

  let copy: StoredCopy | null = await cache.lookup(key);
  const inCacheApi = copy !== null;
  if (!copy) {
    copy = await r2.lookup(key);
    if (copy) warmCache(o, cache, r2, copy.meta);
  }
  if (copy) o.sizeKnown?.(copy.meta.length);

  if (copy && config.revalidateSeconds > 0) {
    const ageMs = Date.now() - copy.meta.storedAt;
    const fresh = ageMs < config.revalidateSeconds * 1000 || (await cache.validatedRecently(key, copy.meta.version));
    if (fresh) {
      const ttl = Math.max(0, config.revalidateSeconds - Math.floor(ageMs / 1000));
      const served = await respondFromCopy(o.req, copy, { cacheStatus: cacheStatus(node, { hit: true, ttl, detail: copy.tier }), maxRanges: o.config.maxRanges });
      if (served) return served;
    }
  }

  const check = await revalidate(config, key, copy?.meta ?? null);
  if (check.kind === "changed") o.sizeKnown?.(check.head.length);
  switch (check.kind) {
    case "unchanged": {
      o.ctx.waitUntil(cache.markValidated(key, copy!.meta.version, config.revalidateSeconds).catch(() => {}));
      const served = await respondFromCopy(o.req, copy!, { cacheStatus: cacheStatus(node, { fwd: "stale", fwdStatus: check.fwdStatus, detail: copy!.tier }), maxRanges: o.config.maxRanges });
      return served ?? fill(o, copy!.meta);
    }
    case "changed": {
      copy?.body.dispose();
      // Another node may have stored the new version already (R2 is shared); not worth a
      // second look when R2 was just found empty (the fill coordinator checks again anyway).
      const elsewhere = inCacheApi || copy ? await r2.meta(key) : null;
      if (elsewhere?.version === check.version) {
        warmCache(o, cache, r2, elsewhere);
        const served = await respondFromCopy(o.req, r2.copy(elsewhere), { cacheStatus: cacheStatus(node, { fwd: "miss", fwdStatus: 200, detail: "r2" }), maxRanges: o.config.maxRanges });
        if (served) return served;
      }
      return missing(o, check.head, check.version);
    }
    case "uncacheable":
      copy?.body.dispose();
      return passThrough(config, o.req, key, cacheStatus(node, { fwd: "miss", detail: check.why }));
    case "gone":
      copy?.body.dispose();
      // Only what we hold: deleting an absent key is still an R2 write (a Class A
      // operation), and a flood of 404s must not turn into a flood of paid writes.
      if (copy) await Promise.all([cache.purge(key), r2.purge(key)]);
      return plain(check.status, check.status === 404 ? "not found at origin" : "gone from origin", {
        "cache-status": cacheStatus(node, { fwd: copy ? "stale" : "miss", fwdStatus: check.status, detail: copy ? "purged" : undefined }),
      });
    case "other":
      copy?.body.dispose();
      return passThrough(config, o.req, key, cacheStatus(node, { fwd: "request", fwdStatus: check.status }));
    case "error": {
      if (copy) {
        // RFC 5861 §4 stale-if-error: a copy we have beats an error.
        const served = await respondFromCopy(o.req, copy, { cacheStatus: cacheStatus(node, { fwd: "stale", fwdStatus: check.fwdStatus, detail: "stale-if-error" }), maxRanges: o.config.maxRanges });
        if (served) return served;
      }
      return originError(o, check.status, check.reason, cacheStatus(node, { fwd: "miss", fwdStatus: check.fwdStatus, detail: "origin-error" }));
    }
  }
}

/** Not stored in this version: answer what can be answered without the body, else fill. */
async function missing(o: ObjectRequest, head: OriginHead & { length: number }, version: string): Promise<Response> {
  const node = o.config.nodeId;
  const status = cacheStatus(node, { fwd: "miss", fwdStatus: 200 });
  if (o.req.method === "HEAD") {
    const headers = representationHeaders(head, status);
    headers.set("content-length", String(head.length));
    return new Response(null, { headers });
  }
  if (evaluatePreconditions(o.req.method, o.req.headers, head) === "not-modified") {
    return new Response(null, { status: 304, headers: representationHeaders({ ...head, contentType: null }, status) });
  }
  if (o.req.headers.has("range")) {
    // A range of a cold object: the origin sends that range now, and the node fills the
    // whole object in the background for the next clients.
    o.ctx.waitUntil(followFill(o, version).then((r) => (r.kind === "live" ? r.body.cancel() : undefined)).catch(() => {}));
    return passThrough(o.config, o.req, o.key, cacheStatus(node, { fwd: "partial", detail: "filling" }));
  }
  return fill(o, { ...head, version });
}

async function fill(o: ObjectRequest, expected: Pick<StoredMeta, "version">): Promise<Response> {
  const node = o.config.nodeId;
  const r = await followFill(o, expected.version);
  if (r.kind === "stored") {
    const served = await respondFromCopy(o.req, new R2Tier(o.env.STORE).copy(r.meta), { cacheStatus: cacheStatus(node, { fwd: "miss", fwdStatus: 200, collapsed: true, detail: "r2" }), maxRanges: o.config.maxRanges });
    return served ?? plain(503, "stored copy changed while being read; retry", { "retry-after": "1" });
  }
  if (r.kind === "failed") {
    if (r.uncacheable) return passThrough(o.config, o.req, o.key, cacheStatus(node, { fwd: "miss", detail: "no-validator" }));
    return originError(o, r.status, r.reason, cacheStatus(node, { fwd: "miss", detail: "fill-failed" }));
  }
  const headers = representationHeaders(r.head, cacheStatus(node, { fwd: "miss", fwdStatus: 200, stored: true }));
  headers.set("content-length", String(r.head.length));
  return new Response(r.body, { status: 200, headers });
}

/**
 * A 502/504 because the origin failed: fixed text and the request id, as on the base
 * (issue #11 L7); the origin's own error is in the "origin fetch failed" log line.
 */
function originError(o: ObjectRequest, status: number, reason: string, cacheStatusValue: string): Response {
  const id = requestId(o.req.headers);
  console.log(JSON.stringify({ msg: "node answered an origin failure", requestId: id, node: o.config.nodeId, path: o.key, status, reason }));
  return opaqueError(status, reason, id, { "cache-status": cacheStatusValue });
}

function followFill(o: ObjectRequest, version: string): Promise<FollowResult> {
  const ns = o.env.FILLS;
  const stub = ns.get(ns.idFromName(`${o.key}\n${version}`));
  return stub.follow({ key: o.key, target: o.key, version }) as Promise<FollowResult>;
}

/** An R2 hit puts the object into this colo's Cache API, from its own R2 read. */
function warmCache(o: ObjectRequest, cache: CacheTier, r2: R2Tier, meta: StoredMeta): void {
  if (meta.length > o.config.cacheApiMaxBytes) return;
  o.ctx.waitUntil(
    (async () => {
      const body = await r2.copy(meta).body.full();
      if (body) await cache.put(meta, body);
    })().catch(() => {}),
  );
}
