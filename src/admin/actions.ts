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
 * Purge a stored object: its R2 copy (global: every node refills from the origin) and
 * this colo's Cache API entry. Other colos' Cache API entries are not reachable from
 * here; they are replaced when their next revalidation sees a new version.
 */
export async function purgeObject(store: R2Bucket, path: string): Promise<ActionResult<{ path: string; stored: boolean }>> {
  if (!path.startsWith("/") || path.length > 2048) return { ok: false, status: 400, reason: "path must start with / (at most 2048 characters)" };
  const canonical = canonicalRequestPath(`https://admin.invalid${path}`);
  if (!canonical.ok) return { ok: false, status: 400, reason: `bad path: ${canonical.reason}` };
  if (canonical.query) return { ok: false, status: 400, reason: "path must not carry a query" };
  // Purging needs no cache warming, so nothing runs after the answer.
  const previous = await new Store(store, caches.default, { cacheMaxBytes: 0, waitUntil: () => {} }).purge(canonical.path);
  return { ok: true, value: { path: canonical.path, stored: previous !== null } };
}
