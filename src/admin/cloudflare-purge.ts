/**
 * An admin purge, sent on to Cloudflare's cache purge API (POST /zones/:zone/purge_cache)
 * for every host in CF_PURGE_HOSTS: by URL for a path (https and http, as the cache key
 * holds the scheme), by prefix ("host/path/") for a prefix. Every plan takes at most 100
 * items per request and few requests per minute (Free: 5 per minute), so items go in
 * batches of 100 and a 429 stops the run and is reported with its Retry-After: the R2
 * copies and the colo pointers are purged already, only this part must be repeated.
 * Requests go to the configured API base alone (config/cloudflare-purge.ts).
 */
import type { CloudflarePurgeConfig } from "../config/cloudflare-purge";
import { timedFetch } from "../platform/timed-fetch";
import type { PurgeTarget } from "../store/purge";

const MAX_ITEMS = 100;
const TIMEOUT_MS = 10_000;

export type CdnPurge = { ok: true; requests: number; items: number } | { ok: false; status: number; reason: string; requests: number };

export async function purgeCloudflare(cf: CloudflarePurgeConfig, target: PurgeTarget): Promise<CdnPurge> {
  const items = "path" in target ? cf.hosts.flatMap((h) => [`https://${h}${target.path}`, `http://${h}${target.path}`]) : cf.hosts.map((h) => `${h}${target.prefix}`);
  const field = "path" in target ? "files" : "prefixes";
  let requests = 0;
  for (let i = 0; i < items.length; i += MAX_ITEMS) {
    requests++;
    const failed = await purgeBatch(cf, { [field]: items.slice(i, i + MAX_ITEMS) });
    if (failed) return { ok: false, requests, ...failed };
  }
  return { ok: true, requests, items: items.length };
}

/** One API request; null when Cloudflare accepted it, else the status and a reason for the operator. */
async function purgeBatch(cf: CloudflarePurgeConfig, body: Record<string, string[]>): Promise<{ status: number; reason: string } | null> {
  const answer = await timedFetch(
    `${cf.apiBase}/zones/${cf.zoneId}/purge_cache`,
    { method: "POST", headers: { authorization: `Bearer ${cf.apiToken}`, "content-type": "application/json" }, body: JSON.stringify(body) },
    { timeoutMs: TIMEOUT_MS, covers: "exchange" },
  );
  if (!answer.ok) return { status: 502, reason: `Cloudflare purge API: ${answer.kind === "timeout" ? "no answer in time" : "unreachable"}; repeat the purge to clear Cloudflare's cache` };
  const res = answer.response;
  const text = await res.text().catch(() => "");
  if (res.status === 429) {
    const after = res.headers.get("retry-after");
    return { status: 429, reason: `Cloudflare purge API rate limit (429${after ? `, retry after ${after.slice(0, 16)} s` : ""}): R2 and every colo are purged; repeat the purge later to clear Cloudflare's cache` };
  }
  let success = false;
  let message = "";
  try {
    const parsed = JSON.parse(text) as { success?: unknown; errors?: Array<{ message?: unknown }> };
    success = parsed.success === true;
    message = typeof parsed.errors?.[0]?.message === "string" ? parsed.errors[0].message : "";
  } catch {
    // not JSON: reported by status
  }
  if (res.ok && success) return null;
  return { status: res.status, reason: `Cloudflare purge API answered ${res.status}${message ? `: ${message.slice(0, 200)}` : ""}` };
}
