import type { NodeConfig } from "../config/node-config";
import type { OriginHead } from "../store/meta";
import { ORIGIN_FAILURE } from "../http/request-id";
import { timedFetch } from "../platform/timed-fetch";
import { log } from "../platform/log";

/** What a request to the origin needs to know (node and base configs both provide it). */
export type OriginConfig = Pick<NodeConfig, "originUrl" | "originTimeoutMs" | "nodeId">;

/**
 * `reason` is what a client may read: fixed text, no address, no runtime message (issue
 * #11 L7). The runtime's own words are logged here, with the target, for the operator.
 */
export type OriginFailure = { ok: false; kind: "connect" | "timeout"; reason: string };
export type OriginAnswer = { ok: true; response: Response } | OriginFailure;

/** One request to the origin. */
export interface OriginRequest {
  method: "GET" | "HEAD";
  /** A canonical path (plus query when keyed): appended to config.originUrl, never a URL. */
  target: string;
  headers?: Record<string, string>;
  /**
   * The id of the client request this one serves, for the failure's log line (the same
   * id its error answer shows); lazy, since most fetches never fail and a random id is
   * not free. Absent for work no request started.
   */
  requestId?: () => string;
}

/**
 * The only way the node talks to the origin: always config.originUrl + a canonical
 * path, never a host taken from the request, never following redirects.
 */
export async function originFetch(config: OriginConfig, { method, target, headers = {}, requestId }: OriginRequest): Promise<OriginAnswer> {
  const answer = await timedFetch(
    config.originUrl + target,
    {
      method,
      // identity: the stored bytes, length and validators must be the origin's own
      // (workerd would otherwise negotiate gzip and decode it transparently).
      headers: { "accept-encoding": "identity", "user-agent": `offload-node/${config.nodeId}`, ...headers },
      redirect: "manual",
    },
    // Only the wait for headers is timed; a long body is not cut off.
    { timeoutMs: config.originTimeoutMs },
  );
  if (answer.ok) return { ok: true, response: answer.response };
  log.warn("origin.fetch-failed", { requestId: requestId?.() ?? null, worker: config.nodeId, method, target, kind: answer.kind, detail: answer.detail });
  return { ok: false, kind: answer.kind, reason: ORIGIN_FAILURE[answer.kind].text };
}

export function headOf(r: Response): OriginHead {
  const len = r.headers.get("content-length");
  const chunked = /chunked/i.test(r.headers.get("transfer-encoding") ?? "");
  const encoded = (r.headers.get("content-encoding") ?? "identity").toLowerCase() !== "identity";
  return {
    etag: r.headers.get("etag"),
    lastModified: r.headers.get("last-modified"),
    length: len !== null && /^\d+$/.test(len) && !chunked && !encoded ? Number(len) : null,
    contentType: r.headers.get("content-type"),
    cacheControl: r.headers.get("cache-control"),
  };
}

/** Client headers worth passing on a pass-through; everything else (hop-by-hop included) stays behind. */
export function passThroughHeaders(config: NodeConfig, req: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  const allowed = ["range", "if-range", "if-none-match", "if-modified-since", "accept", "accept-language"];
  if (config.forwardCredentials) allowed.push("cookie", "authorization");
  for (const name of allowed) {
    const v = req.get(name);
    if (v !== null) out[name] = v;
  }
  return out;
}

/** Drain and discard a body we will not use, so the connection can be reused. */
export function discard(r: Response): void {
  r.body?.cancel().catch(() => {});
}
