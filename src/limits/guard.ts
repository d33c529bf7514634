import type { NodeConfig } from "../config/node-config";
import { clientOf, isAllowlisted } from "./client-key";

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
  ns: DurableObjectNamespace<import("./concurrency-limiter").ConcurrencyLimiter>,
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
    const wait = Math.ceil(got.retryAfterMs / 1000);
    return { kind: "refused", active: got.active, retryAfterSeconds: Math.max(1, Math.min(wait, config.retryAfterSeconds)) };
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
