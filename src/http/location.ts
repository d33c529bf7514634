/**
 * The Location of an origin's or backend's answer, as the client gets it. Pure.
 *
 * Location is a URI-reference (RFC 9110 §10.2.2) that the client resolves against the
 * URL it asked for, i.e. against the base's public URL, not the upstream's. Like nginx's
 * `proxy_redirect default`, the upstream's own absolute URLs become the public ones, so
 * clients never learn (or go around the base to) an internal address.
 *
 * Browsers do not read a reference the way RFC 3986 does: they resolve it with the
 * WHATWG URL parser, which drops tabs and newlines, trims spaces and controls, and takes
 * "\" for "/" in http(s) URLs. So "//evil/x", "/\evil/x", "\\evil" and "http:\\evil"
 * all send a browser to evil (issue #11). Every reference is therefore resolved here the
 * way a browser would, and:
 * - one that lands on the upstream's own origin becomes the same path on the public one
 *   (on the upstream's host with another port or scheme: its path, the prefix kept);
 * - one that lands elsewhere is kept only if it is an explicit absolute URL in clean
 *   syntax (the upstream named that host on purpose: nginx leaves it too);
 * - any other one (scheme-relative, backslashes, whitespace or controls, "https:host")
 *   reached another host through a spelling: its path is kept on the public origin.
 * With publicOrigin "" (no configured public URL) the result is path-absolute (RFC 3986
 * §4.2), never "//..." (which would name a host).
 */

/** Characters a browser's URL parser silently drops, trims or reinterprets. */
const MANGLED = /[\u0000-\u0020\u007f\\]/;
/** An explicit absolute URL: a scheme, and for http(s) an authority right after it. */
const ABSOLUTE = /^([A-Za-z][A-Za-z0-9+.-]*):/;
const WITH_AUTHORITY = /^https?:\/\/[^/?#]/i;

export function rewriteLocation(location: string, upstreamUrl: string, publicOrigin: string): string {
  const upstream = new URL(upstreamUrl);
  let url: URL;
  try {
    url = new URL(location, upstream.href.endsWith("/") ? upstream.href : `${upstream.href}/`);
  } catch {
    // Not a URL a browser can follow at all: it cannot lead anywhere either.
    return location;
  }
  if (url.origin === upstream.origin) return onPublic(url, upstream, publicOrigin);
  // The upstream's host on another port or scheme is still an internal address: never shown.
  if (url.hostname === upstream.hostname) return onPublic(url, null, publicOrigin);
  if (isExplicit(location)) return location;
  return onPublic(url, null, publicOrigin);
}

function isExplicit(location: string): boolean {
  if (MANGLED.test(location)) return false;
  const scheme = ABSOLUTE.exec(location)?.[1]?.toLowerCase();
  if (!scheme) return false; // relative: "//host" or "/\host" only reach a host by spelling
  return scheme === "http" || scheme === "https" ? WITH_AUTHORITY.test(location) : true;
}

/** `url`'s path (without the upstream's own path prefix), query and fragment on the public origin. */
function onPublic(url: URL, upstream: URL | null, publicOrigin: string): string {
  const prefix = upstream ? upstream.pathname.replace(/\/+$/, "") : "";
  const inside = prefix !== "" && (url.pathname === prefix || url.pathname.startsWith(`${prefix}/`));
  let path = inside ? url.pathname.slice(prefix.length) || "/" : url.pathname;
  // A non-http(s) URL's path may lack the leading "/" (it would glue onto the host) or
  // hold "\" (which http(s) reads as "/"): neither may survive on the public origin.
  if (!path.startsWith("/")) path = `/${path}`;
  path = path.replace(/\\/g, "%5C");
  // Without an origin in front, "//x" would be a scheme-relative reference to host x.
  if (publicOrigin === "") path = path.replace(/^\/+/, "/");
  return publicOrigin + path + url.search + url.hash;
}
