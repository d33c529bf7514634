import type { BaseConfig } from "../config/base-config";
import { upstreamHeaders } from "../http/forwarding";
import { stripHopByHop } from "../http/hop-by-hop";
import { rewriteLocation } from "../http/location";
import { opaqueError, requestId } from "../http/request-id";

/**
 * The base as a transparent reverse proxy to the origin, for everything it does not
 * offload: any method, bodies streamed both ways, headers kept under the same forwarding
 * policy as the proxy routes (src/http/forwarding.ts: hop-by-hop removed, RFC 9110
 * §7.6.1; every client-sent address claim dropped, X-Forwarded-For the Cloudflare peer),
 * and the origin's own Location rewritten to the base's public URL (src/http/location.ts)
 * so clients never learn (or go around the base to) the origin's address. A failure to
 * reach the origin answers a generic 502/504 with a request id; its cause is logged.
 */
export async function serveLocally(config: BaseConfig, req: Request, target: string, publicOrigin: string, extra?: Headers): Promise<Response> {
  // No trusted proxies here: the base is the first hop it knows of, so the origin sees
  // the Cloudflare peer and nothing a client claimed. Without PUBLIC_URL ("") no
  // X-Forwarded-Host/-Proto at all, neither the client's Host nor one it sent (issue #11 L3).
  const headers = upstreamHeaders(req.headers, { publicOrigin, trustedProxies: [], forwarded: false });

  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), config.originTimeoutMs);
  let res: Response;
  try {
    const hasBody = req.method !== "GET" && req.method !== "HEAD";
    res = await fetch(config.originUrl + target, {
      method: req.method,
      headers,
      body: hasBody ? req.body : null,
      redirect: "manual",
      signal: controller.signal,
    });
  } catch (e) {
    const id = requestId(req.headers);
    const timedOut = controller.signal.aborted;
    // The origin's address and the runtime's message are for the operator only (issue #11 L7).
    console.log(JSON.stringify({ msg: "origin pass-through failed", requestId: id, target, kind: timedOut ? "timeout" : "connect", detail: timedOut ? `no answer within ${config.originTimeoutMs} ms` : String((e as Error).message) }));
    return timedOut ? opaqueError(504, "the origin did not answer in time", id) : opaqueError(502, "the origin cannot be reached", id);
  } finally {
    clearTimeout(timer);
  }
  const out = stripHopByHop(res.headers);
  const location = out.get("location");
  if (location) out.set("location", rewriteLocation(location, config.originUrl, publicOrigin));
  extra?.forEach((v, k) => out.set(k, v));
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers: out });
}
