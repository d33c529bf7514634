import { canonicalRequestPath } from "../http/path";
import { plain } from "../http/plain";

/** A request past the front checks: its canonical path and raw query (http/path.ts). */
export interface FrontPath {
  ok: true;
  path: string;
  query: string;
}

/**
 * The checks every request passes before any route, on the canonical path: Hono matches
 * the raw one, so "//_admin" or "/ath//update" would miss their routes and reach the
 * catch-all (and the origin, ATH_TOKEN and all). A reserved path is served only in its
 * canonical spelling. Servers that strip ";params" (Tomcat, Jetty) or ignore case (IIS)
 * would read "/ath;x/update" or "/ATH/update" as ours: those spellings are refused too.
 * `reserved`: the path is under /_admin or /ath, whose routes alone may answer it.
 */
export function frontChecks(url: string): { ok: false; res: Response } | { ok: true; path: FrontPath; reserved: boolean } {
  const path = canonicalRequestPath(url);
  if (!path.ok) return { ok: false, res: plain(path.status, `bad request path: ${path.reason}`) };
  const reserved = reservedSpelling(path.path);
  if (reserved === "variant" || (reserved === "exact" && rawPath(url) !== path.path)) {
    return { ok: false, res: plain(400, `bad request path: reserved path (/_admin, /ath) in a non-canonical spelling`) };
  }
  return { ok: true, path, reserved: reserved !== null };
}

/**
 * Whether a canonical path is under a control endpoint's prefix (/_admin, /ath): never
 * offloaded, proxied or passed to the origin. "exact": in our spelling; "variant": its
 * first segment is one of them once ";params" are cut and case is folded.
 */
export function reservedSpelling(path: string): "exact" | "variant" | null {
  const end = path.indexOf("/", 1);
  const first = end < 0 ? path.slice(1) : path.slice(1, end);
  const name = first.split(";", 1)[0]!.toLowerCase();
  if (name !== "_admin" && name !== "ath") return null;
  return first === name ? "exact" : "variant";
}

/** The request's path exactly as sent (percent-encoding, repeated slashes and all). */
function rawPath(url: string): string {
  const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*([^?#]*)/.exec(url);
  return m?.[1] || "/";
}
