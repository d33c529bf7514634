/**
 * Which proxy route serves a request: the longest prefix covering the path on a segment
 * boundary ("/app/" takes "/app/x" and "/app", not "/application"); for equal prefixes a
 * route naming the request's host wins over one for any host. Pure.
 */
import { prefixCovers } from "../balancers/eligibility";
import type { ProxyRoute } from "../config/proxy-config";

/**
 * `host` is the request's Host (URL host, with a port if not the default); `path` the
 * canonical path (canonicalRequestPath), so "/app/../admin" cannot match "/app/".
 */
export function matchRoute(routes: readonly ProxyRoute[], host: string, path: string): ProxyRoute | null {
  const h = host.toLowerCase();
  const hostname = h.replace(/:\d+$/, "");
  let best: ProxyRoute | null = null;
  for (const r of routes) {
    if (r.host !== null && r.host !== (r.host.includes(":") && !r.host.endsWith("]") ? h : hostname)) continue;
    if (!routeCovers(r, path)) continue;
    if (!best || r.prefix.length > best.prefix.length || (r.prefix.length === best.prefix.length && best.host === null && r.host !== null)) best = r;
  }
  return best;
}

/** True when the route's prefix covers `path` (a canonical path). */
export function routeCovers(route: ProxyRoute, path: string): boolean {
  const p = route.prefix;
  return prefixCovers(p, path) || (p.length > 1 && p.endsWith("/") && path === p.slice(0, -1));
}
