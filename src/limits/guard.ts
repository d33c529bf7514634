import type { NodeConfig } from "../config/node-config";
import { cacheStatus } from "../http/cache-status";
import { plain } from "../http/plain";
import { clientOf, isAllowlisted } from "./client-key";
import type { ConcurrencyLimiter } from "./concurrency-limiter";
import { acquireLease, holdWhileStreaming, type LeaseResult } from "./lease";
import { downloadStarted } from "./load-gauge";

export interface PendingGuard {
  /** Apply the guard to the answer: count it (or refuse it with 503), or let it pass. */
  finish(res: Response): Promise<Response>;
  /** The download's size is known (before the answer is ready): ask for the slot now if it counts. */
  sizeKnown(length: number): void;
  /** No answer after all (an error): give back an early slot. */
  abandon(): void;
}

/**
 * mod_offload's "download accelerator" block. As soon as the node knows a GET (without
 * conditional headers) is a download of at least GUARD_MIN_BYTES (from its copy's meta
 * or the origin's HEAD), it asks the client+URL limiter for a slot in parallel with the
 * rest (revalidation, fill), so the Durable Object's round trip (a cold object can take
 * tens of milliseconds) does not delay the first byte, while small files never pay it.
 * Once the answer is known it is counted only if it is one: a 200/206 with a body of at
 * least GUARD_MIN_BYTES; an early slot that turns out not to be needed is given back.
 * Refusal is 503 + Retry-After, not 429: aria2c retries a 503 (--retry-wait) and
 * completes with fewer connections, but gives up for good on a 429.
 */
export function beginGuard(
  config: NodeConfig,
  ns: DurableObjectNamespace<ConcurrencyLimiter>,
  env: object,
  req: Request,
  key: string,
  ctx: ExecutionContext,
): PendingGuard {
  const client = clientOf(req.headers);
  const exempt = req.method !== "GET" || config.maxConnectionsPerClient === 0 || isAllowlisted(client.ip, config.connectionAllowlist);
  if (exempt) return { finish: async (res) => res, abandon: () => {}, sizeKnown: () => {} };

  // One limiter per client + URL.
  const acquire = () => acquireLease(ns.get(ns.idFromName(`${client.key} ${key}`)), config.maxConnectionsPerClient, config.leaseSeconds * 1000, ctx);
  const likelyDownload = !req.headers.has("if-none-match") && !req.headers.has("if-modified-since");
  let early: Promise<LeaseResult> | null = null;
  const giveBack = () => {
    if (early) ctx.waitUntil(early.then((s) => (s.ok ? s.lease.release() : undefined), () => {}));
  };

  return {
    abandon: giveBack,
    sizeKnown(length) {
      if (early || !likelyDownload || length < config.guardMinBytes) return;
      early = acquire();
      // A failed early request is retried in finish(); its rejection must not go unhandled.
      early.catch(() => {});
    },
    async finish(res) {
      const length = Number(res.headers.get("content-length") ?? Number.NaN);
      const counted = res.body !== null && (res.status === 200 || res.status === 206) && !(length < config.guardMinBytes);
      if (!counted) {
        giveBack();
        return res;
      }
      const slot = await (early ?? acquire()).catch(acquire);
      if (!slot.ok) {
        await res.body?.cancel();
        return plain(
          503,
          `too many simultaneous downloads of this file from your address (${slot.active} of ${config.maxConnectionsPerClient}); retry later or use fewer connections`,
          { "retry-after": String(config.retryAfterSeconds), "cache-status": cacheStatus(config.nodeId, { detail: "concurrency-limit" }) },
        );
      }
      return holdWhileStreaming(slot.lease, res, downloadStarted(env));
    },
  };
}
