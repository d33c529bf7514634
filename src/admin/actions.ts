/**
 * The admin's writes, shared by the HTML forms and the JSON API. Every input is checked
 * against the configuration first: an unknown farm or member, a state that does not
 * exist or a path that is not a plain canonical path is refused with a reason and
 * nothing is stored.
 */
import type { FarmsConfig } from "../config/farms-config";
import { canonicalRequestPath } from "../http/path";
import { quoted } from "../http/plain";
import { farmRegistry, invalidateFarmRecords } from "../farms/runtime";
import { ADMIN_STATES, type AdminState, type FarmEvent } from "../farms/types";
import { Store } from "../store/store";
import { purgePath, purgePrefix, type PathPurge, type PrefixPurge, type PurgeTarget } from "../store/purge";
import type { CloudflarePurgeConfig } from "../config/cloudflare-purge";
import { purgeCloudflare, type CdnPurge } from "./cloudflare-purge";

export type ActionResult<T> = { ok: true; value: T } | { ok: false; status: 400 | 404; reason: string };


export async function setMemberState(
  farms: FarmsConfig,
  env: Parameters<typeof farmRegistry>[0],
  farmName: string,
  memberId: string,
  state: string,
  by: string,
): Promise<ActionResult<{ farm: string; member: string; state: AdminState; event: FarmEvent | null }>> {
  const farm = farms.farms.get(farmName);
  if (!farm) return { ok: false, status: 404, reason: `unknown farm ${quoted(farmName)}` };
  if (!farm.members.some((m) => m.id === memberId)) return { ok: false, status: 404, reason: `farm ${farm.name} has no member ${quoted(memberId)}` };
  if (!(ADMIN_STATES as readonly string[]).includes(state)) return { ok: false, status: 400, reason: `state must be one of ${ADMIN_STATES.join(", ")}, not ${quoted(state)}` };
  const event = await farmRegistry(env).setAdmin(farm.name, memberId, state as AdminState, by);
  // This isolate balances on the change at once; others within FARM_VIEW_TTL_MS.
  invalidateFarmRecords(env);
  return { ok: true, value: { farm: farm.name, member: memberId, state: state as AdminState, event } };
}

/**
 * The purge form's or API body's fields: exactly one of `path` and `prefix`, each a
 * canonical path (the form the nodes key copies by) without a query, so a purge never
 * misses a copy by spelling and a malformed one purges nothing.
 */
export function purgeTarget(fields: { path?: unknown; prefix?: unknown }): PurgeTarget | { error: string } {
  const given = (["path", "prefix"] as const).filter((f) => fields[f] !== undefined && fields[f] !== "");
  if (given.length !== 1) return { error: "give exactly one of path (one file) and prefix (a folder such as /releases/1.2/)" };
  const field = given[0]!;
  const value = fields[field];
  if (typeof value !== "string" || !value.startsWith("/") || value.length > 2048) return { error: `${field} must start with / (at most 2048 characters)` };
  const canonical = canonicalRequestPath(`https://admin.invalid${value}`);
  if (!canonical.ok) return { error: `${field}: bad path: ${canonical.reason}` };
  if (canonical.query || value.includes("?")) return { error: `${field} must not carry a query` };
  if (field === "prefix" && canonical.path !== value) return { error: `prefix must be written as the nodes key paths: ${quoted(canonical.path)}, not ${quoted(value)}` };
  return field === "path" ? { path: canonical.path } : { prefix: canonical.path };
}

/**
 * Purge stored copies everywhere: R2's (every node refills from the origin), this colo's
 * Cache API pointers, and, through the purge log, every other colo's pointers at their
 * next check (PURGE_CHECK_SECONDS). A prefix takes up to PURGE_BATCH copies per call.
 */
export async function purgeObjects(bucket: R2Bucket, fields: { path?: unknown; prefix?: unknown }, cloudflare: CloudflarePurgeConfig | null): Promise<ActionResult<Purged>> {
  const target = purgeTarget(fields);
  if ("error" in target) return { ok: false, status: 400, reason: target.error };
  // Purging needs no cache warming, so nothing runs after the answer.
  const store = new Store(bucket, caches.default, { cacheMaxBytes: 0, waitUntil: () => {} });
  const done = "path" in target ? await purgePath(store, bucket, target.path) : await purgePrefix(store, bucket, target.prefix);
  if (!done) return { ok: false, status: 404, reason: `nothing stored under prefix ${quoted("prefix" in target ? target.prefix : "")}` };
  // A prefix in several batches is sent to Cloudflare with its last one, when R2 holds
  // none of it any more: fewer API requests against the plan's rate limit.
  if (!cloudflare || ("more" in done && done.more)) return { ok: true, value: done };
  return { ok: true, value: { ...done, cloudflare: await purgeCloudflare(cloudflare, target) } };
}

/** A purge's answer; `cloudflare` when CF_API_TOKEN and CF_ZONE_ID are set. */
export type Purged = (PathPurge | PrefixPurge) & { cloudflare?: CdnPurge };
