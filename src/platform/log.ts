/**
 * Structured logs: one JSON line per event, the same shape everywhere, so Workers Logs
 * and Logpush can filter and count them without parsing prose (README "Logs").
 *
 *     {"level":"warn","msg":"guard.refused","requestId":"8f1b…-FRA","worker":"node-a", …fields}
 *
 * `msg` is a stable event name (`room.event`), never a sentence that changes; `requestId`
 * is the request's id (http/request-id.ts: CF-Ray when present), null for work no
 * request started (Cron runs, alarms); `worker` the node or base id where the caller
 * knows it, else null. The level picks console.error / console.warn / console.log, which
 * Workers Logs keeps as the line's severity.
 *
 * Secrets stay out by construction, not by each caller's care: a field named like a
 * credential (token, secret, cookie, authorization, password, csrf, signature, …) is
 * replaced by "[redacted]" whatever it holds, at any depth; every string has URL query
 * members named like one (offload_token=…, sig=…), URL user-info and Authorization
 * schemes' parameters masked; and a Headers object (which may carry Cookie or
 * Authorization) is never written out. Callers still log paths, not signed URLs.
 */

import { REQUEST_ID_HEADER, requestId } from "../http/request-id";
import { factsOf } from "./answer-facts";

type LogLevel = "error" | "warn" | "info";

/** An event's fields; `requestId` and `worker` lead the line, the rest follow as given. */
export interface LogFields {
  requestId?: string | null;
  worker?: string | null;
  [field: string]: unknown;
}

const REDACTED = "[redacted]";

/** Field names whose values are credentials or may hold one. `key` (an object's path) is not. */
const SECRET_FIELD = /token|secret|cookie|authori[sz]ation|passw(?:or)?d|csrf|signature|credential|api[-_]?key|private[-_]?key|keys$|^sig$|^mac$/i;

/** A query member named like a credential (`?offload_token=…`, `&X-Amz-Signature=…`). */
const SECRET_QUERY = /([?&;][^=&;#\s"']*(?:token|sig|secret|key|auth|passw|credential)[^=&;#\s"']*=)[^&;#\s"']*/gi;
/** User-info in a URL (RFC 3986 §3.2.1): `scheme://user:password@host`. */
const USER_INFO = /(\b[a-z][a-z0-9+.-]*:\/\/)[^/?#@\s"']*@/gi;
/** Credentials after an Authorization scheme name (RFC 9110 §11.4), wherever they appear in text. */
const AUTH_SCHEME = /\b(Bearer|Basic|Digest)\s+[A-Za-z0-9._~+/=-]+/gi;

/** Longest string kept (a stack, a backend's reason): a log line is not a dump. */
const MAX_STRING = 2000;
/** Nesting kept; deeper values are summarised. */
const MAX_DEPTH = 4;

function scrubText(s: string): string {
  const cut = s.length > MAX_STRING ? `${s.slice(0, MAX_STRING)}…` : s;
  return cut.replace(SECRET_QUERY, `$1${REDACTED}`).replace(USER_INFO, `$1${REDACTED}@`).replace(AUTH_SCHEME, `$1 ${REDACTED}`);
}

function scrub(value: unknown, depth: number): unknown {
  if (typeof value === "string") return scrubText(value);
  if (value === null || typeof value !== "object") return typeof value === "bigint" ? String(value) : value;
  if (value instanceof Headers) return "[headers not logged]";
  if (value instanceof Error) return scrubText(String(value));
  if (depth >= MAX_DEPTH) return "[…]";
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_FIELD.test(k) ? REDACTED : scrub(v, depth + 1);
  return out;
}

function write(level: LogLevel, msg: string, fields: LogFields): void {
  const { requestId = null, worker = null, ...rest } = fields;
  const shaped: Record<string, unknown> = { level, msg, requestId: requestId === null ? null : scrubText(requestId), worker, ...(scrub(rest, 0) as object) };
  // A field named like the line's own keys cannot overwrite them (the order stays).
  Object.assign(shaped, { level, msg });
  const line = JSON.stringify(shaped);
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}

/** `log.error` for failures (5xx answers, lost work), `log.warn` for refusals and degraded service, `log.info` for state changes and actions. */
export const log = {
  error: (msg: string, fields: LogFields = {}) => write("error", msg, fields),
  warn: (msg: string, fields: LogFields = {}) => write("warn", msg, fields),
  info: (msg: string, fields: LogFields = {}) => write("info", msg, fields),
};

/** What `logFailedAnswer` needs of one final answer. */
interface FailedAnswer {
  req: Request;
  res: Response;
  /** The node's or base's id. */
  worker: string;
  /** The canonical path (http/path.ts), never the URL: its query may carry a signed token. */
  path: string;
}

/**
 * `answer.error` for a final 5xx answer, with the id the client was shown (X-Request-Id
 * when the answer names one, else the request's own): the status and Cache-Status say
 * what failed; a line with the cause, when one is known, carries the same id. A 503 with
 * Retry-After is load shedding the client is told to retry (the download guard, a busy
 * object, a digest not known yet), not a failure: the places that shed load log their
 * own refusals where they are worth a line.
 */
export function logFailedAnswer({ req, res, worker, path }: FailedAnswer): void {
  // Its facts, not the Response: a hit's status is then no call into the runtime (platform/answer-facts.ts).
  const facts = factsOf(res);
  const status = facts.status;
  if (status < 500 || (status === 503 && facts.get("retry-after") !== null)) return;
  const id = facts.get(REQUEST_ID_HEADER) ?? requestId(req.headers);
  log.error("answer.error", { requestId: id, worker, method: req.method, path, status, cacheStatus: facts.get("cache-status") });
}
