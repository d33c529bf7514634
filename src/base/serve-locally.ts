import type { BaseConfig } from "../config/base-config";
import { stripHopByHop } from "../http/hop-by-hop";
import { plain } from "../http/plain";

/**
 * The base as a transparent reverse proxy to the origin, for everything it does not
 * offload: any method, bodies streamed both ways, headers kept (hop-by-hop removed,
 * RFC 9110 §7.6.1), and the origin's own Location rewritten to the base's public URL
 * so clients never learn (or go around the base to) the origin's address.
 */
export async function serveLocally(config: BaseConfig, req: Request, target: string, publicOrigin: string, extra?: Headers): Promise<Response> {
  const headers = stripHopByHop(req.headers);
  headers.delete("host");
  const client = req.headers.get("cf-connecting-ip");
  if (client) {
    const prior = req.headers.get("x-forwarded-for");
    headers.set("x-forwarded-for", prior ? `${prior}, ${client}` : client);
  }
  headers.set("x-forwarded-host", new URL(publicOrigin).host);
  headers.set("x-forwarded-proto", new URL(publicOrigin).protocol.replace(":", ""));

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
    if (controller.signal.aborted) return plain(504, `origin did not answer within ${config.originTimeoutMs} ms`);
    return plain(502, `cannot connect to origin: ${(e as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
  const out = stripHopByHop(res.headers);
  const location = out.get("location");
  if (location) out.set("location", rewriteLocation(location, config.originUrl, publicOrigin));
  extra?.forEach((v, k) => out.set(k, v));
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers: out });
}

/** proxy_redirect default: the origin's own absolute URLs become the base's. */
export function rewriteLocation(location: string, originUrl: string, publicOrigin: string): string {
  const origin = new URL(originUrl);
  let url: URL;
  try {
    url = new URL(location, originUrl + "/");
  } catch {
    return location;
  }
  if (url.origin !== origin.origin) return location;
  const prefix = origin.pathname.replace(/\/+$/, "");
  const path = prefix && url.pathname.startsWith(prefix) ? url.pathname.slice(prefix.length) || "/" : url.pathname;
  return publicOrigin + path + url.search + url.hash;
}
