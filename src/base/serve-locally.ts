import type { BaseConfig } from "../config/base-config";
import { upstreamHeaders } from "../http/forwarding";
import { stripHopByHop } from "../http/hop-by-hop";
import { rewriteLocation } from "../http/location";
import { plain } from "../http/plain";
import { originFailure, REQUEST_ID_HEADER } from "../http/request-id";
import { fetchUpstream } from "../proxy/upstream-fetch";
import { log } from "../platform/log";

/** One request the base passes to its origin itself. */
export interface LocalRequest {
  req: Request;
  ctx: ExecutionContext;
  /** The canonical path and query to ask the origin for. */
  target: string;
  /** The configured public URL, or "" (see src/http/location.ts). */
  publicOrigin: string;
  /** The request's id (lazyRequestId): the same in its error answer and every log line about it. */
  requestId: () => string;
}

/**
 * The base as a transparent reverse proxy to the origin, for everything it does not
 * offload: any method, bodies streamed both ways, headers kept under the same forwarding
 * policy as the proxy routes (src/http/forwarding.ts: hop-by-hop removed, RFC 9110
 * §7.6.1; every client-sent address claim dropped, X-Forwarded-For the Cloudflare peer),
 * and the origin's own Location rewritten to the base's public URL (src/http/location.ts)
 * so clients never learn (or go around the base to) the origin's address.
 * The upload runs under the proxy routes' two timers (src/proxy/upstream-fetch.ts):
 * ORIGIN_TIMEOUT_MS for the origin's silence only, CLIENT_BODY_TIMEOUT_MS for the
 * client's; a client's upload fault answers 408/400 and is not the origin's failure
 * (issue #11 H1). A failure to reach the origin answers a generic 502/504 with a request
 * id; its cause is logged.
 */
export async function serveLocally(config: BaseConfig, local: LocalRequest, extra?: Headers): Promise<Response> {
  const { req, ctx, target, publicOrigin } = local;
  // No trusted proxies here: the base is the first hop it knows of, so the origin sees
  // the Cloudflare peer and nothing a client claimed. Without PUBLIC_URL ("") no
  // X-Forwarded-Host/-Proto at all, neither the client's Host nor one it sent (issue #11 L3).
  const headers = upstreamHeaders(req.headers, { publicOrigin, trustedProxies: [], forwarded: false });
  const answer = await fetchUpstream(config.originUrl + target, req, headers, { timeoutMs: config.originTimeoutMs, clientBodyTimeoutMs: config.clientBodyTimeoutMs, ctx });
  if (!answer.ok) {
    const id = local.requestId();
    if (answer.kind === "client") return plain(answer.status, answer.detail, { [REQUEST_ID_HEADER]: id });
    // The origin's address and the runtime's message are for the operator only (issue #11 L7).
    log.error("base.origin-failed", { requestId: id, worker: config.baseId, target, kind: answer.kind === "timeout" ? "timeout" : "connect", detail: answer.detail });
    return originFailure(answer.kind === "timeout" ? "timeout" : "connect", id);
  }
  const res = answer.res;
  const out = stripHopByHop(res.headers);
  const location = out.get("location");
  if (location) out.set("location", rewriteLocation(location, config.originUrl, publicOrigin));
  extra?.forEach((v, k) => out.set(k, v));
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers: out });
}
