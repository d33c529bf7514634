/**
 * What one final answer counts as in the offload totals, read from its status and the
 * Cache-Status member this project wrote (src/http/cache-status.ts, RFC 9211). Pure: no
 * platform calls, so every shape the node and the base emit is unit-tested.
 *
 *   copy     served from our stored copy: `hit` (fresh copy, Cache API or R2),
 *            `fwd=stale` (copy confirmed by the origin's 304 / same validators, or
 *            stale-if-error), `fwd=miss; detail=r2` (the new version was already in R2,
 *            or a collapsed client served from the copy a fill just stored), a follower of
 *            a fill (`fwd=miss; collapsed; detail=fill`: chunks another request fetched)
 *   origin   bytes that crossed from the origin: the fetching client of a fill, whole or
 *            slice (`fwd=miss; stored`), pass-through (`fwd=miss; detail=no-validator`,
 *            `fwd=request`), the base serving or proxying (`fwd=bypass`)
 *   refused  the download-accelerator guard's 503 (`detail=concurrency-limit`)
 *   null     everything else: errors, 304, redirects, 404/410: no file bytes moved
 *
 * `bytes` here is the declared Content-Length (0 without one, or for a bodiless answer):
 * what the answer promised. The totals count what it delivered instead: the recorder
 * replaces it with the body bytes the client pulled (platform/counted-body.ts) once the
 * body ends or its client leaves; only refusals are recorded with this value (0 bytes).
 */
import { splitOutsideQuotes } from "../http/split-outside-quotes";
import { CACHE_STATUS_CLASSES, type CacheStatusClass } from "./counters";

export type ServedKind = "copy" | "origin" | "refused";

export interface Served {
  kind: ServedKind;
  bytes: number;
}

/** RFC 9211 §2: the last member is the cache closest to the client, i.e. ours. */
export function lastCacheStatusMember(value: string): { id: string; params: Map<string, string | true> } | null {
  const members = splitOutsideQuotes(value, ",");
  const last = members[members.length - 1]?.trim();
  if (!last) return null;
  const [id = "", ...rest] = splitOutsideQuotes(last, ";").map((s) => s.trim());
  const params = new Map<string, string | true>();
  for (const p of rest) {
    const eq = p.indexOf("=");
    if (eq < 0) params.set(p.toLowerCase(), true);
    else params.set(p.slice(0, eq).trim().toLowerCase(), unquote(p.slice(eq + 1).trim()));
  }
  return { id: unquote(id), params };
}

/**
 * Everything an answer's status and Cache-Status say for the counts, read once: the
 * recorder keeps these per isolate by (status, Cache-Status), so the header is parsed once
 * per distinct value, not three times per answer.
 */
export interface AnswerProfile {
  /** copy, origin or refused; null when no file bytes moved (errors, 304, redirects). */
  kind: ServedKind | null;
  /** RFC 9211: `hit` (§2.1), else the forward reason (§2.2) when it is a registered one, else `none`. */
  cacheClass: CacheStatusClass;
  /** The origin gave no usable reply: an error page (`detail=origin-error`) or a copy instead (`detail=stale-if-error`). */
  originError: "error" | "stale" | null;
}

export function answerProfile(status: number, cacheStatus: string | null): AnswerProfile {
  const member = cacheStatus === null ? null : lastCacheStatusMember(cacheStatus);
  if (!member) return { kind: null, cacheClass: "none", originError: null }; // not an answer we can place
  const p = member.params;
  const detail = p.get("detail");
  const originError = detail === "origin-error" ? "error" : detail === "stale-if-error" ? "stale" : null;
  return { kind: kindOf(status, p), cacheClass: classOf(p), originError };
}

function kindOf(status: number, p: Map<string, string | true>): ServedKind | null {
  if (status === 503 && p.get("detail") === "concurrency-limit") return "refused";
  if (status !== 200 && status !== 206) return null;
  return servedFromCopy(p) ? "copy" : p.has("fwd") ? "origin" : null;
}

function classOf(p: Map<string, string | true>): CacheStatusClass {
  if (p.get("hit") === true) return "hit";
  const fwd = p.get("fwd");
  return typeof fwd === "string" && (CACHE_STATUS_CLASSES as readonly string[]).includes(fwd) ? (fwd as CacheStatusClass) : "none";
}

/** The Served of an answer already profiled (bytes: the declared length; 0 for a refusal). */
export function servedOf(profile: AnswerProfile, res: { headers: Headers; body: ReadableStream | null }): Served | null {
  if (profile.kind === null) return null;
  return { kind: profile.kind, bytes: profile.kind === "refused" ? 0 : declaredBytes(res) };
}

function servedFromCopy(p: Map<string, string | true>): boolean {
  if (p.get("hit") === true) return true;
  const fwd = p.get("fwd");
  const detail = p.get("detail");
  return fwd === "stale" || (fwd === "miss" && (detail === "r2" || (detail === "fill" && p.get("collapsed") === true)));
}

function declaredBytes(res: { headers: Headers; body: ReadableStream | null }): number {
  if (res.body === null) return 0;
  const length = res.headers.get("content-length");
  if (length === null || !/^\d{1,16}$/.test(length.trim())) return 0;
  return Number(length.trim());
}

function unquote(v: string): string {
  if (!v.startsWith('"') || !v.endsWith('"') || v.length < 2) return v;
  return v.slice(1, -1).replace(/\\(["\\])/g, "$1");
}
