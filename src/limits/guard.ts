import type { NodeConfig } from "../config/node-config";
import { cacheStatus } from "../http/cache-status";
import { plain } from "../http/plain";
import { clientOf, isAllowlisted } from "./client-key";
import type { ConcurrencyLimiter } from "./concurrency-limiter";
import { acquireLease, holdWhileStreaming } from "./lease";
import { downloadStarted } from "./load-gauge";

/**
 * Counts the download against the client's allowance once we know it is one: a GET
 * answered with a body of at least GUARD_MIN_BYTES. Refusal is 503 + Retry-After, not
 * 429: aria2c retries a 503 (--retry-wait) and completes with fewer connections, but
 * gives up for good on a 429.
 */
export async function guardDownload(
  config: NodeConfig,
  ns: DurableObjectNamespace<ConcurrencyLimiter>,
  env: object,
  req: Request,
  key: string,
  ctx: ExecutionContext,
  res: Response,
): Promise<Response> {
  const length = Number(res.headers.get("content-length") ?? Number.NaN);
  const counted = req.method === "GET" && res.body !== null && (res.status === 200 || res.status === 206) && !(length < config.guardMinBytes);
  if (!counted) return res;
  if (config.maxConnectionsPerClient === 0) return res;
  const client = clientOf(req.headers);
  if (isAllowlisted(client.ip, config.connectionAllowlist)) return res;

  // One limiter per client + URL: mod_offload's "download accelerator" block.
  const stub = ns.get(ns.idFromName(`${client.key} ${key}`));
  const slot = await acquireLease(stub, config.maxConnectionsPerClient, config.leaseSeconds * 1000, ctx);
  if (!slot.ok) {
    await res.body?.cancel();
    return plain(
      503,
      `too many simultaneous downloads of this file from your address (${slot.active} of ${config.maxConnectionsPerClient}); retry later or use fewer connections`,
      { "retry-after": String(config.retryAfterSeconds), "cache-status": cacheStatus(config.nodeId, { detail: "concurrency-limit" }) },
    );
  }
  return holdWhileStreaming(slot.lease, res, downloadStarted(env));
}
