import type { NodeConfig } from "../config/node-config";
import { cacheStatus } from "../http/cache-status";
import { plain } from "../http/plain";
import { completeLength } from "../http/range";
import { clientOf, isAllowlisted, type ClientIdentity } from "./client-key";
import type { ConcurrencyLimiter } from "./concurrency-limiter";
import { acquireLease, holdWhileStreaming, type LeaseResult } from "./lease";
import { downloadStarted } from "./load-gauge";
import { log } from "../platform/log";
import { requestId } from "../http/request-id";
import { factsOf, type AnswerFacts } from "../platform/answer-facts";
import type { Soon } from "../platform/soon";

/** The request a guard is begun for, with what the node loaded for it. */
export interface GuardedRequest {
  config: NodeConfig;
  ns: DurableObjectNamespace<ConcurrencyLimiter>;
  env: object;
  /** The request's method and headers, as the caller read them (each read is a call into the runtime). */
  method: string;
  headers: Headers;
  /** The canonical request path (http/path.ts), without the query. */
  path: string;
  ctx: ExecutionContext;
}

export interface PendingGuard {
  /** Apply the guard to the answer: count it (or refuse it with 503), or let it pass (at once: most hits are small). */
  finish(res: Response): Soon<Response>;
  /** The download's size is known (before the answer is ready): ask for the slot now if it counts. */
  sizeKnown(length: number): void;
  /** No answer after all (an error): give back an early slot. */
  abandon(): void;
}

/**
 * mod_offload's "download accelerator" block. As soon as the node knows a GET (without
 * conditional headers) is a download of at least GUARD_MIN_BYTES (from its copy's meta
 * or the origin's HEAD), it asks the client+path limiter for a slot in parallel with the
 * rest (revalidation, fill), so the Durable Object's round trip (a cold object can take
 * tens of milliseconds) does not delay the first byte, while small files never pay it.
 * Once the answer is known it is counted only if it is one: a 200/206 with a body, of an
 * object of at least GUARD_MIN_BYTES. The object's size, not the answer's: eight parallel
 * 512 KiB ranges of one big file are exactly the accelerator the guard exists for (issue
 * #11 M2). An early slot that turns out not to be needed is given back.
 * The client is its canonical address (client-key.ts); a request without one did not come
 * through Cloudflare, and its counted downloads are refused (400) rather than pooled.
 * The limiter is named by client + canonical path only: with CACHE_KEY_QUERY the query
 * is part of the cache key, but `?r=1` … `?r=8` of one file are still one accelerator,
 * and a signed URL's query is the client's choice too. The price: two different objects
 * behind one path (`/get?id=1`, `/get?id=2`) share the client's slots.
 * Refusal is 503 + Retry-After, not 429: aria2c retries a 503 (--retry-wait) and
 * completes with fewer connections, but gives up for good on a 429.
 */
export function beginGuard({ config, ns, env, method, headers, path, ctx }: GuardedRequest): PendingGuard {
  if (method !== "GET" || config.maxConnectionsPerClient === 0) return { finish: (res) => res, abandon: () => {}, sizeKnown: () => {} };
  // Who the client is (and whether the allowlist exempts it) matters only for a download
  // that counts: the answer of a small file, most hits, never parses the address (issue #13).
  let identity: ClientIdentity | undefined;
  const client = () => (identity ??= clientOf(headers));
  const allowlisted = () => isAllowlisted(client().ip, config.connectionAllowlist);

  // The object's complete length, once told (meta or the origin's HEAD).
  let told: number | undefined;
  // One limiter per client + path (see above: never the query).
  const acquire = () => acquireLease(ns.get(ns.idFromName(`${client().key} ${path}`)), config.maxConnectionsPerClient, config.leaseSeconds * 1000, ctx);
  let early: Promise<LeaseResult> | null = null;
  const giveBack = () => {
    if (early) ctx.waitUntil(early.then((s) => (s.ok ? s.lease.release() : undefined), () => {}));
  };

  /** A download that counts: its slot (asked early or now), or a refusal. */
  const countedAnswer = async (res: Response): Promise<Response> => {
    const { unidentified, key } = client();
    if (unidentified) {
      giveBack();
      log.warn("guard.refused", { requestId: requestId(headers), worker: config.nodeId, path, status: 400, reason: "no-client-address", detail: unidentified });
      await res.body?.cancel();
      return plain(400, `no client address for the download limit: ${unidentified}`, {
        "cache-status": cacheStatus(config.nodeId, { detail: "no-client-address" }),
      });
    }
    const slot = await (early ?? acquire()).catch(acquire);
    if (!slot.ok) {
      await res.body?.cancel();
      log.warn("guard.refused", { requestId: requestId(headers), worker: config.nodeId, path, status: 503, reason: "concurrency-limit", client: key, active: slot.active, limit: config.maxConnectionsPerClient });
      return plain(
        503,
        `too many simultaneous downloads of this file from your address (${slot.active} of ${config.maxConnectionsPerClient}); retry later or use fewer connections`,
        { "retry-after": String(config.retryAfterSeconds), "cache-status": cacheStatus(config.nodeId, { detail: "concurrency-limit" }) },
      );
    }
    return holdWhileStreaming(slot.lease, res, downloadStarted(env));
  };

  return {
    abandon: giveBack,
    sizeKnown(length) {
      told = length;
      if (early || length < config.guardMinBytes) return;
      const likelyDownload = !headers.has("if-none-match") && !headers.has("if-modified-since");
      if (!likelyDownload || client().unidentified || allowlisted()) return;
      early = acquire();
      // A failed early request is retried in finish(); its rejection must not go unhandled.
      early.catch(() => {});
    },
    finish(res) {
      // An object of unknown size counts (it may be big).
      const facts = factsOf(res);
      const length = objectLength(facts) ?? told;
      const counted = (facts.status === 200 || facts.status === 206) && facts.hasBody && !(length !== undefined && length < config.guardMinBytes);
      if (!counted || allowlisted()) {
        giveBack();
        return res;
      }
      return countedAnswer(res);
    },
  };
}

/** The complete length of the object an answer is about (RFC 9110 §8.6, §14.4), if it says. */
function objectLength(res: AnswerFacts): number | undefined {
  if (res.status === 206) return completeLength(res.get("content-range"));
  const length = res.get("content-length");
  return length !== null && /^\d{1,16}$/.test(length) ? Number(length) : undefined;
}
