import { opaqueError, requestId } from "../http/request-id";
import { log } from "./log";

/**
 * The answer for an error nothing else caught. A Durable Object that is overloaded (past
 * its request ceiling) or briefly unavailable throws an Error carrying `overloaded` or
 * `retryable` (Cloudflare's Durable Object error properties): that is not our bug but
 * load, so the client gets 503 with Retry-After (RFC 9110 §15.6.4, §10.2.3) and can come
 * back, instead of a 500 it would not retry.
 */
export function errorAnswer(err: unknown, who: string, headers: Headers): Response {
  const e = err as { overloaded?: unknown; retryable?: unknown; stack?: unknown };
  const busy = e?.overloaded === true || e?.retryable === true;
  // The details stay in the log, under the id the client is shown (issue #11 L7).
  const id = requestId(headers);
  log.error("error.uncaught", { requestId: id, who, error: String(err), busy, stack: e?.stack });
  if (busy) return opaqueError(503, `${who} is busy (${e.overloaded === true ? "overloaded" : "temporarily unavailable"}); retry shortly`, id, { "retry-after": "1" });
  return opaqueError(500, `internal error in the ${who}`, id);
}
