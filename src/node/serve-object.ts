import type { NodeConfig } from "../config/node-config";
import { cacheStatus } from "../http/cache-status";
import { evaluatePreconditions, ifRangeAllows } from "../http/conditional";
import { coldRead, FillFailed } from "../fill/cold-read";
import { decideRange, type ByteRange } from "../http/range";
import { shapeRanges } from "../http/range-coalesce";
import type { OriginHead } from "../store/meta";
import { Store } from "../store/store";
import { MetaMemo } from "../store/meta-memo";
import { perIsolate } from "../platform/per-isolate";
import type { Soon } from "../platform/soon";
import { purgeCheck } from "../store/purge-view";
import { passThrough } from "./pass-through";
import { plain } from "../http/plain";
import { opaqueError } from "../http/request-id";
import { respondFromCopy, type Asked } from "../store/respond";
import { againstCopy, revalidate, type Revalidation } from "./revalidate";
import type { StoredCopy } from "../store/copy";
import { log } from "../platform/log";

export interface ObjectRequest {
  req: Request;
  /** `req`'s method and headers, as the caller read them once. */
  asked: Asked;
  /** Cache key, equal to the origin target (canonical path, plus query when keyed). */
  key: string;
  config: NodeConfig;
  env: Env;
  ctx: ExecutionContext;
  /** Told the body size as soon as it is known (the guard then asks for a slot early). */
  sizeKnown?: (length: number) => void;
  /** The request's id (lazyRequestId): one id for its error answer and every log line about it. */
  requestId: () => string;
}

/** A version the origin's HEAD described: its validators, length and version name. */
interface OriginVersion {
  head: OriginHead & { length: number };
  version: string;
}

/**
 * mod_offload's node, per request: find our copy (Cache API, then R2), ask the base
 * origin whether it is still good (conditional HEAD), then serve it, refill it, purge
 * it, or fall back to it when the origin is down.
 */
export async function serveObject(o: ObjectRequest): Promise<Response> {
  const { config, key } = o;
  const node = config.nodeId;
  // At once for the default cache (production's); a named one is opened first.
  const opened = storeOf(o);
  const store = opened instanceof Promise ? await opened : opened;
  const cache = store.cache;

  // REVALIDATE_SECONDS=0 asks the origin on every request. Once this colo holds no
  // pointer, that HEAD goes out with the R2 read rather than after it (unconditional:
  // the copy is not known yet), so a cold colo waits for the slower of the two, not both.
  const early: { check?: Promise<Revalidation> } = {};
  const toR2 = () => {
    early.check = revalidate(config, key, null, o.requestId);
    early.check.catch(() => {});
  };
  const copy: StoredCopy | null = await store.lookup(key, config.revalidateSeconds === 0 ? { toR2 } : {});
  if (copy) o.sizeKnown?.(copy.meta.length);

  if (copy && config.revalidateSeconds > 0) {
    const ageMs = Date.now() - copy.meta.storedAt;
    const fresh = ageMs < config.revalidateSeconds * 1000 || (await cache.validatedRecently(key, copy.meta.version));
    if (fresh) {
      const ttl = Math.max(0, config.revalidateSeconds - Math.floor(ageMs / 1000));
      const served = await respondFromCopy(o.asked, copy, { cacheStatus: hitStatus(config, ttl, copy.tier), maxRanges: o.config.maxRanges });
      if (served) return served;
    }
  }

  const check = early.check ? againstCopy(await early.check, copy?.meta ?? null) : await revalidate(config, key, copy?.meta ?? null, o.requestId);
  if (check.kind === "changed") o.sizeKnown?.(check.head.length);
  switch (check.kind) {
    case "unchanged": {
      o.ctx.waitUntil(cache.markValidated(key, copy!.meta.version, config.revalidateSeconds).catch(() => {}));
      const served = await respondFromCopy(o.asked, copy!, { cacheStatus: cacheStatus(node, { fwd: "stale", fwdStatus: check.fwdStatus, detail: copy!.tier }), maxRanges: o.config.maxRanges });
      if (served) return served;
      // The copy's bytes are gone (the store took a broken pointer down, or dropped this
      // colo's stale one): refill rather than fail forever.
      const { etag, lastModified, length, contentType, cacheControl } = copy!.meta;
      return missing(o, store, { head: { etag, lastModified, length, contentType, cacheControl }, version: copy!.meta.version });
    }
    case "changed": {
      copy?.body.dispose();
      // Another node may have stored the new version already (R2 is shared); not worth a
      // second look when R2 was just found empty (the fill coordinator checks again anyway).
      // Nor when this request read R2 already: it named our copy's version then.
      const elsewhere = copy && store.pointerSeen(key) === undefined ? await store.visibleInR2(key) : null;
      if (elsewhere?.version === check.version) {
        store.warmPointer(elsewhere);
        const served = await respondFromCopy(o.asked, store.copy(elsewhere), { cacheStatus: cacheStatus(node, { fwd: "miss", fwdStatus: 200, detail: "r2" }), maxRanges: o.config.maxRanges });
        if (served) return served;
      }
      return missing(o, store, check);
    }
    case "uncacheable":
      copy?.body.dispose();
      return passThrough(config, { req: o.req, target: key, cacheStatus: cacheStatus(node, { fwd: "miss", detail: check.why }), requestId: o.requestId });
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
      return passThrough(config, { req: o.req, target: key, cacheStatus: cacheStatus(node, { fwd: "request", fwdStatus: check.status }), requestId: o.requestId });
    case "error": {
      if (copy) {
        // RFC 5861 §4 stale-if-error: a copy we have beats an error.
        const served = await respondFromCopy(o.asked, copy, { cacheStatus: cacheStatus(node, { fwd: "stale", fwdStatus: check.fwdStatus, detail: "stale-if-error" }), maxRanges: o.config.maxRanges });
        if (served) return served;
      }
      return originError(o, check.status, check.reason, cacheStatus(node, { fwd: "miss", fwdStatus: check.fwdStatus, detail: "origin-error" }));
    }
  }
}

/**
 * Not stored in this version. What the origin's HEAD tells is enough for a HEAD, for a
 * failed precondition (RFC 9110 §13.2.2: 412 or 304) and for an unsatisfiable Range
 * (§15.5.17: 416 names the length): those are answered from it, exactly as from a
 * stored copy, without joining a fill. Every other GET joins the version's fill.
 */
async function missing(o: ObjectRequest, store: Store, v: OriginVersion): Promise<Response> {
  const wanted = bytesWanted(o.asked, v.head, o.config.maxRanges);
  if (wanted !== "none") return cold(o, store, v, wanted);
  const status = cacheStatus(o.config.nodeId, { fwd: "miss", fwdStatus: 200 });
  const answered = await respondFromCopy(o.asked, headOnly(o.key, v), { cacheStatus: status, maxRanges: o.config.maxRanges });
  // Unreachable (bytesWanted said no byte is read); joining the fill is still a right answer.
  return answered ?? cold(o, store, v, null);
}

/**
 * Join the version's fill and answer from it: a range needs only the chunks it covers
 * (a slice fill), a full GET all of them; every byte is read from the store as chunks
 * appear, or live from our own origin fetch. `window`: the bytes the answer reads, null = all.
 */
async function cold(o: ObjectRequest, store: Store, v: OriginVersion, window: ByteRange | null): Promise<Response> {
  const { head, version } = v;
  const node = o.config.nodeId;
  const ns = o.env.FILLS;
  const id = ns.idFromName(`${o.key}\n${version}`);
  const seen = store.pointerSeen(o.key);
  const pointer = seen === undefined || seen?.meta?.version === version ? undefined : { etag: seen?.etag ?? null };
  const r = await coldRead({ config: o.config, store, coordinator: () => ns.get(id), waitUntil: (p) => o.ctx.waitUntil(p.catch(() => {})), requestId: o.requestId() }, { key: o.key, target: o.key, version, head }, window, pointer);
  if (r.kind === "stored") {
    // Stored meanwhile (by another node, or before our lookup missed it): this colo learns it, as from a lookup.
    store.warmPointer(r.meta);
    const served = await respondFromCopy(o.asked, store.copy(r.meta), { cacheStatus: cacheStatus(node, { fwd: "miss", fwdStatus: 200, collapsed: true, detail: "r2" }), maxRanges: o.config.maxRanges });
    return served ?? plain(503, "stored copy changed while being read; retry", { "retry-after": "1" });
  }
  const status = cacheStatus(node, { fwd: "miss", fwdStatus: 200, stored: r.filling, collapsed: !r.filling, detail: "fill" });
  try {
    const served = await respondFromCopy(o.asked, r.copy, { cacheStatus: status, maxRanges: o.config.maxRanges });
    if (served) return served;
  } catch (e) {
    // The fill failed before the answer's first byte: still time for a proper status.
    if (!(e instanceof FillFailed)) throw e;
    return originError(o, e.status, e.message, cacheStatus(node, { fwd: "miss", detail: "fill-failed" }));
  }
  return originError(o, 502, "the fill could not start", cacheStatus(node, { fwd: "miss", detail: "fill-failed" }));
}

/**
 * The bytes [first, last] the answer to `req` reads, decided as respondFromCopy will
 * (preconditions, If-Range, Range, coalescing): null = all of them, "none" = the answer
 * carries no content (HEAD, 304, 412, 416), so a cold one needs no fill.
 */
function bytesWanted({ method, headers }: Asked, head: OriginHead & { length: number }, maxRanges: number): ByteRange | null | "none" {
  if (method === "HEAD" || evaluatePreconditions(method, headers, head) !== "proceed") return "none";
  const range = ifRangeAllows(headers, head) ? headers.get("range") : null;
  const decided = decideRange(range, head.length);
  if (decided.kind === "unsatisfiable") return "none";
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

/** The version as the origin's HEAD describes it, for answers that read no byte of it. */
function headOnly(key: string, v: OriginVersion): StoredCopy {
  const none = async () => null;
  return { tier: "r2", meta: { key, version: v.version, ...v.head, sha256: "", storedAt: Date.now() }, body: { full: none, range: none, dispose: () => {} } };
}

/**
 * A 502/504 because the origin failed: fixed text and the request id, as on the base
 * (issue #11 L7); the origin's own error is in the "origin fetch failed" log line.
 */
function originError(o: ObjectRequest, status: number, reason: string, cacheStatusValue: string): Response {
  const id = o.requestId();
  log.error("node.origin-failed", { requestId: id, worker: o.config.nodeId, path: o.key, status, reason });
  return opaqueError(status, reason, id, { "cache-status": cacheStatusValue });
}

function storeOf(o: ObjectRequest): Soon<Store> {
  const { config } = o;
  const store = (cache: Cache) => {
    const purges = purgeCheck(o.env, config.purgeCheckSeconds * 1000);
    return new Store(o.env.STORE, cache, { cacheMaxBytes: config.cacheApiMaxBytes, waitUntil: (p) => o.ctx.waitUntil(p), purges, metas: metasOf(o.env) });
  };
  // A named cache only where CACHE_NAME is set (the local stack's nodes, standing for colos).
  return config.cacheName === null ? store(caches.default) : caches.open(config.cacheName).then(store);
}

/**
 * A hit's Cache-Status (RFC 9211) from `tier` with `ttl` seconds left: made once per
 * second and tier, not per hit, and the same string while it holds, so the answer fields
 * kept with a shared meta (store/respond.ts) are found again by identity (issue #13).
 */
function hitStatus(config: NodeConfig, ttl: number, tier: StoredCopy["tier"]): string {
  const byTier = hitStatusesOf(config);
  let kept = byTier.get(tier);
  if (kept?.ttl !== ttl) {
    kept = { ttl, value: cacheStatus(config.nodeId, { hit: true, ttl, detail: tier }) };
    byTier.set(tier, kept);
  }
  return kept.value;
}

const hitStatusesOf = perIsolate((_config: NodeConfig) => new Map<string, { ttl: number; value: string }>());

/** The metas this isolate's requests share (store/meta-memo.ts). */
const metasOf = perIsolate((_env: object) => new MetaMemo());
