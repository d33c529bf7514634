import type { NodeConfig } from "../config/node-config";
import { cacheStatus } from "../http/cache-status";
import { plain } from "../http/plain";
import { clientOf, isAllowlisted } from "./client-key";
import type { ConcurrencyLimiter } from "./concurrency-limiter";

export type Slot =
  | { kind: "free" }
  | { kind: "held"; track(body: ReadableStream<Uint8Array>, length: number | null): ReadableStream<Uint8Array>; release(): void }
  | { kind: "refused"; retryAfterSeconds: number; active: number };

/**
 * mod_offload's "download accelerator" block: at most N simultaneous downloads of one
 * URL from one client. The slot is held while the body streams (native pipe, no
 * per-chunk JavaScript), renewed by heartbeat, and released when the body ends or the
 * client goes away.
 */
export async function takeSlot(
  config: NodeConfig,
  ns: DurableObjectNamespace<ConcurrencyLimiter>,
  headers: Headers,
  urlKey: string,
  ctx: ExecutionContext,
): Promise<Slot> {
  if (config.maxConnectionsPerClient === 0) return { kind: "free" };
  const client = clientOf(headers);
  if (isAllowlisted(client.ip, config.connectionAllowlist)) return { kind: "free" };

  const stub = ns.get(ns.idFromName(`${client.key} ${urlKey}`));
  const ttlMs = config.leaseSeconds * 1000;
  const got = await stub.acquire(config.maxConnectionsPerClient, ttlMs);
  if (!got.ok) {
    return { kind: "refused", active: got.active, retryAfterSeconds: config.retryAfterSeconds };
  }

  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    ctx.waitUntil(stub.release(got.leaseId).catch(() => {}));
  };
  return {
    kind: "held",
    release,
    track(body, length) {
      const pair = length === null ? new IdentityTransformStream() : new FixedLengthStream(length);
      const beat = setInterval(() => {
        ctx.waitUntil(stub.renew(got.leaseId, ttlMs).then(() => {}, () => {}));
      }, Math.max(1000, ttlMs / 3));
      ctx.waitUntil(
        body
          .pipeTo(pair.writable)
          .catch(() => {})
          .finally(() => {
            clearInterval(beat);
            release();
          }),
      );
      return pair.readable;
    },
  };
}

/**
 * Counts the download against the client's allowance once we know it is one: a GET
 * answered with a body of at least GUARD_MIN_BYTES. Refusal is 503 + Retry-After, not
 * 429: aria2c retries a 503 (--retry-wait) and completes with fewer connections, but
 * gives up for good on a 429.
 */
export async function guardDownload(
  config: NodeConfig,
  ns: DurableObjectNamespace<ConcurrencyLimiter>,
  req: Request,
  key: string,
  ctx: ExecutionContext,
  res: Response,
): Promise<Response> {
  const length = Number(res.headers.get("content-length") ?? Number.NaN);
  const counted = req.method === "GET" && res.body !== null && (res.status === 200 || res.status === 206) && !(length < config.guardMinBytes);
  if (!counted) return res;
  const slot = await takeSlot(config, ns, req.headers, key, ctx);
  if (slot.kind === "free") return res;
  if (slot.kind === "refused") {
    await res.body?.cancel();
    return plain(
      503,
      `too many simultaneous downloads of this file from your address (${slot.active} of ${config.maxConnectionsPerClient}); retry later or use fewer connections`,
      { "retry-after": String(slot.retryAfterSeconds), "cache-status": cacheStatus(config.nodeId, { detail: "concurrency-limit" }) },
    );
  }
  return new Response(slot.track(res.body!, Number.isFinite(length) ? length : null), res);
}
