/**
 * One id per request, shown to the client on an error answer and written into the log
 * line that holds the details, so an operator can match a complaint to its cause while
 * the client learns nothing about internal addresses or runtime errors (issue #11 L7).
 *
 * The id is Cloudflare's CF-Ray when present: on Cloudflare the edge sets it (a client's
 * own CF-Ray never reaches the worker) and it is what Cloudflare's logs already carry.
 * Elsewhere (local workerd, tests) any client can send one, so only a short token is
 * taken; anything else, or none, gets a random id. Pure: no platform calls besides the
 * default random source, which a caller may replace.
 */
import { plain } from "./plain";

/** The response field carrying the id (a de-facto standard; no RFC defines one). */
export const REQUEST_ID_HEADER = "x-request-id";

/** A CF-Ray ("8f1b2c3d4e5f6a7b-FRA") or anything of that shape: letters, digits, "-". */
const RAY = /^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/;

export function requestId(headers: Headers, random: () => string = () => crypto.randomUUID()): string {
  const ray = headers.get("cf-ray")?.trim();
  return ray && RAY.test(ray) ? ray : random();
}

/**
 * The request's id, made on first use and the same on every later one: most requests
 * never fail, and a random id (crypto.randomUUID without CF-Ray) is not free.
 */
export function lazyRequestId(headers: Headers, random?: () => string): () => string {
  let id: string | null = null;
  return () => (id ??= requestId(headers, random));
}

/**
 * A generic one-line error answer naming the request id (also in X-Request-Id). `what`
 * must be fixed text chosen by the caller, never a backend's address or an error message:
 * those belong in the log line with the same id.
 */
/**
 * What a client reads when the origin failed, by how it failed: one wording for the
 * base's pass-through, X-Sendfile's origin root and the nodes (RFC 9110 §15.6.3 502,
 * §15.6.5 504); the cause itself goes to the log.
 */
export const ORIGIN_FAILURE = {
  timeout: { status: 504, text: "the origin did not answer in time" },
  connect: { status: 502, text: "the origin cannot be reached" },
} as const;

/** The opaque 502/504 for an origin that could not be reached or did not answer in time. */
export function originFailure(kind: keyof typeof ORIGIN_FAILURE, id: string, headers?: HeadersInit): Response {
  const f = ORIGIN_FAILURE[kind];
  return opaqueError(f.status, f.text, id, headers);
}

export function opaqueError(status: number, what: string, id: string, headers?: HeadersInit): Response {
  const h = new Headers(headers);
  h.set(REQUEST_ID_HEADER, id);
  return plain(status, `${what} (request id ${id})`, h);
}
