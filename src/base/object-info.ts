import type { BaseConfig } from "../config/base-config";
import { sha256DigestField } from "../http/digest";
import { R2Tier } from "../store/r2-tier";
import { discard, headOf, originFetch } from "../origin/origin";
import { perIsolate } from "../platform/per-isolate";
import type { Soon } from "../platform/soon";

/** What the base needs to decide about a file: size, type, and the digest when known. */
export interface ObjectInfo {
  size: number | null;
  contentType: string | null;
  sha256: string | null;
  /** The RFC 9530 field for sha256, computed once per learned file. */
  reprDigest: string | null;
  etag: string | null;
  /** The origin's Last-Modified: with the size, what a mirror's copy is compared against (src/mirrors/). */
  lastModified: string | null;
  /** The origin's status for the HEAD (200 when learned from the shared store). */
  status: number;
}

interface Remembered {
  info: ObjectInfo;
  until: number;
}

const MAX_REMEMBERED = 10_000;
const NO_DIGEST_SECONDS = 5;
// Learned facts per env (one per isolate and deployment); bounded, entries expire.
const memoryOf = perIsolate((_env: object) => new Map<string, Remembered>());

/**
 * Size, type and digest of a file, from the nodes' shared store (R2 meta pointer, which
 * also carries the SHA-256 computed while filling) or else from a HEAD to the origin;
 * remembered for INFO_CACHE_SECONDS so the base does not ask on every request. What is
 * remembered comes back as it is, not as a promise: the redirect path goes on without
 * awaiting it (issue #13).
 */
export function objectInfo(config: BaseConfig, env: Env, key: string, opts: { requestId?: () => string; now?: number } = {}): Soon<ObjectInfo | null> {
  const ctxNow = opts.now ?? Date.now();
  const hit = memoryOf(env).get(key);
  if (hit && hit.until > ctxNow) return hit.info;
  return learn(config, env, key, ctxNow, opts.requestId);
}

async function learn(config: BaseConfig, env: Env, key: string, ctxNow: number, requestId?: () => string): Promise<ObjectInfo | null> {
  const map = memoryOf(env);
  const info = (await fromStore(env, key)) ?? (await fromOrigin(config, key, requestId));
  if (!info) return null;
  if (map.size >= MAX_REMEMBERED) map.delete(map.keys().next().value as string);
  map.delete(key);
  // Without a digest yet (no node has stored the file), look again soon: the digest
  // appears in R2 as soon as the first fill completes.
  const seconds = info.sha256 ? config.infoCacheSeconds : Math.min(config.infoCacheSeconds, NO_DIGEST_SECONDS);
  map.set(key, { info, until: ctxNow + seconds * 1000 });
  return info;
}

async function fromStore(env: Env, key: string): Promise<ObjectInfo | null> {
  const meta = await new R2Tier(env.STORE).meta(key).catch(() => null);
  if (!meta) return null;
  // A version filled in slices is visible before its whole-file digest is known.
  const sha256 = meta.sha256 || null;
  return { size: meta.length, contentType: meta.contentType, sha256, reprDigest: sha256 && sha256DigestField(sha256), etag: meta.etag, lastModified: meta.lastModified, status: 200 };
}

async function fromOrigin(config: BaseConfig, key: string, requestId?: () => string): Promise<ObjectInfo | null> {
  const answer = await originFetch({ originUrl: config.originUrl, originTimeoutMs: config.originTimeoutMs, nodeId: config.baseId }, { method: "HEAD", target: key, ...(requestId ? { requestId } : {}) });
  if (!answer.ok) return null;
  discard(answer.response);
  const head = headOf(answer.response);
  return { size: head.length, contentType: head.contentType, sha256: null, reprDigest: null, etag: head.etag, lastModified: head.lastModified, status: answer.response.status };
}
