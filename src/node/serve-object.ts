import type { NodeConfig } from "../config/node-config";
import { cacheStatus } from "../http/cache-status";
import { evaluatePreconditions } from "../http/conditional";
import { coldRead, FillFailed } from "../fill/cold-read";
import { decideRange } from "../http/range";
import { shapeRanges } from "../http/range-coalesce";
import { ifRangeAllows } from "../http/conditional";
import type { OriginHead } from "../store/meta";
import { Store } from "../store/store";
import { passThrough } from "./pass-through";
import { plain } from "../http/plain";
import { opaqueError, requestId } from "../http/request-id";
import { representationHeaders, respondFromCopy } from "../store/respond";
import { revalidate } from "./revalidate";
import type { StoredCopy } from "../store/copy";

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
  const store = storeOf(o);
  const cache = store.cache;

  const copy: StoredCopy | null = await store.lookup(key);
  const inCacheApi = copy?.tier === "cache-api";
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
      if (served) return served;
      // The copy's bytes are gone though its pointer is current: refill rather than fail forever.
      await store.dropIfBroken(copy!.meta);
      const { etag, lastModified, length, contentType, cacheControl } = copy!.meta;
      return cold(o, { etag, lastModified, length, contentType, cacheControl }, copy!.meta.version);
    }
    case "changed": {
      copy?.body.dispose();
      // Another node may have stored the new version already (R2 is shared); not worth a
      // second look when R2 was just found empty (the fill coordinator checks again anyway).
      const elsewhere = inCacheApi || copy ? await store.r2.meta(key) : null;
      if (elsewhere?.version === check.version) {
        store.warmPointer(elsewhere);
        const served = await respondFromCopy(o.req, store.copy(elsewhere), { cacheStatus: cacheStatus(node, { fwd: "miss", fwdStatus: 200, detail: "r2" }), maxRanges: o.config.maxRanges });
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
      if (copy) await store.purge(key);
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
  return cold(o, head, version);
}

/**
 * Join the version's fill and answer from it: a range needs only the chunks it covers
 * (a slice fill), a full GET all of them; every byte is read from the store as chunks
 * appear, or live from our own origin fetch.
 */
async function cold(o: ObjectRequest, head: OriginHead & { length: number }, version: string): Promise<Response> {
  const node = o.config.nodeId;
  const store = storeOf(o);
  const ns = o.env.FILLS;
  const coordinator = ns.get(ns.idFromName(`${o.key}\n${version}`));
  const r = await coldRead({ config: o.config, store, coordinator, waitUntil: (p) => o.ctx.waitUntil(p.catch(() => {})) }, { key: o.key, target: o.key, version, head }, wantedBytes(o.req, head, o.config.maxRanges));
  if (r.kind === "stored") {
    const served = await respondFromCopy(o.req, store.copy(r.meta), { cacheStatus: cacheStatus(node, { fwd: "miss", fwdStatus: 200, collapsed: true, detail: "r2" }), maxRanges: o.config.maxRanges });
    return served ?? plain(503, "stored copy changed while being read; retry", { "retry-after": "1" });
  }
  const status = cacheStatus(node, { fwd: "miss", fwdStatus: 200, stored: r.filling, collapsed: !r.filling, detail: "fill" });
  try {
    const served = await respondFromCopy(o.req, r.copy, { cacheStatus: status, maxRanges: o.config.maxRanges });
    if (served) return served;
  } catch (e) {
    // The fill failed before the answer's first byte: still time for a proper status.
    if (!(e instanceof FillFailed)) throw e;
    return originError(o, e.status, e.message, cacheStatus(node, { fwd: "miss", detail: "fill-failed" }));
  }
  return originError(o, 502, "the fill could not start", cacheStatus(node, { fwd: "miss", detail: "fill-failed" }));
}

/** The bytes [first, last] a GET will read, so a cold range fills only its chunks; null = all. */
function wantedBytes(req: Request, head: OriginHead & { length: number }, maxRanges: number): { start: number; end: number } | null {
  const range = ifRangeAllows(req.headers, head) ? req.headers.get("range") : null;
  const decided = decideRange(range, head.length);
  const shaped = decided.kind === "partial" ? shapeRanges(decided.ranges, maxRanges) : decided;
  if (shaped.kind !== "partial") return null;
  let start = Infinity;
  let end = -1;
  for (const r of shaped.ranges) {
    start = Math.min(start, r.start);
    end = Math.max(end, r.end);
  }
  return { start, end };
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

function storeOf(o: ObjectRequest): Store {
  return new Store(o.env.STORE, caches.default, { cacheMaxBytes: o.config.cacheApiMaxBytes, waitUntil: (p) => o.ctx.waitUntil(p) });
}
