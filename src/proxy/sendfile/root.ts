/**
 * Where X-Sendfile / X-Accel-Redirect files come from, and how a name the backend gives
 * is confined to that place.
 *
 * Root syntax (checked once, when the route is configured):
 * - `r2:<key prefix>`: objects of the STORE bucket under `<prefix>/`; "r2:files" serves
 *   `/a/b.bin` from the key `files/a/b.bin` (a trailing "/" on the prefix changes nothing).
 *   The prefix is required: the bucket also holds the offload nodes' `meta/` and `data/`
 *   objects, which a backend must not be able to name.
 * - `origin:<path prefix>`: ORIGIN_URL + prefix + path, e.g. "origin:/protected" serves
 *   `/a/b.bin` from `<ORIGIN_URL>/protected/a/b.bin`; "origin:" is the origin's root.
 *
 * A name is always read relative to the root, like a chroot: "/etc/passwd" is
 * `<prefix>/etc/passwd`, never a file outside. Both headers are read as URI paths
 * (percent-decoded; a literal "%" must be sent as %25) — lighttpd reads X-Sendfile as a
 * literal file name, but judging "%2e%2e" as ".." is the safer reading when the name may
 * echo user input. What src/http/path.ts refuses in a request path is refused here too:
 * dot segments in any spelling (also before ";params": "/..;/x", "%2e%2e%3B"), encoded
 * slashes, backslashes, control characters (NUL), malformed escapes and bad UTF-8; so are
 * relative names and names of directories.
 */
import { ConfigError } from "../../config/fields";
import { canonicalRequestPath } from "../../http/path";

export type SendfileRoot =
  /** Key prefix without leading or trailing "/". */
  | { kind: "r2"; prefix: string }
  /** Canonical URL path prefix on ORIGIN_URL, without trailing "/" ("" = the origin's root). */
  | { kind: "origin"; prefix: string };

/**
 * A confined name: canonical path (RFC 3986 §6.2.2, starts with "/"), the same path
 * percent-decoded (the R2 key below the prefix) and the raw query.
 */
export type ResolvedName = { ok: true; path: string; decoded: string; query: string } | { ok: false; reason: string };

const FIELD = "sendfile.root";

/** Parses a root; throws a ConfigError naming `sendfile.root` when it is not usable. */
export function parseSendfileRoot(root: string): SendfileRoot {
  if (root.startsWith("r2:")) {
    const prefix = root.slice(3).replace(/^\/+|\/+$/g, "");
    if (prefix === "") {
      throw new ConfigError(FIELD, `"${root}" needs a key prefix (r2:<prefix>): the bucket also holds the offload nodes' objects`);
    }
    for (const segment of prefix.split("/")) {
      // Written by an operator, still refused in the same spellings as a backend's name.
      const name = segment.split(";")[0];
      if (name === "" || name === "." || name === ".." || /[\\\x00-\x1f\x7f]/.test(segment)) {
        throw new ConfigError(FIELD, `"${root}": the key prefix must be plain segments (no empty, ".", ".." or control characters)`);
      }
    }
    return { kind: "r2", prefix };
  }
  if (root.startsWith("origin:")) {
    const prefix = root.slice(7).replace(/\/+$/, "");
    if (prefix === "") return { kind: "origin", prefix };
    const canonical = prefix.startsWith("/") ? canonicalRequestPath(prefix) : null;
    if (!canonical?.ok || canonical.query !== "" || canonical.path !== prefix) {
      throw new ConfigError(FIELD, `"${root}": the path prefix must be a canonical absolute path such as /protected`);
    }
    return { kind: "origin", prefix };
  }
  throw new ConfigError(FIELD, `"${root}" must be "r2:<key prefix>" or "origin:<path prefix>"`);
}

/** Confines the name a backend gave (X-Sendfile / X-Accel-Redirect value) to the root. */
export function resolveName(value: string): ResolvedName {
  if (value === "") return { ok: false, reason: "empty file name" };
  // Also keeps "http://host/x" from being read as an absolute URL by the path parser.
  if (!value.startsWith("/")) return { ok: false, reason: "file name must start with '/'" };
  const canonical = canonicalRequestPath(value);
  if (!canonical.ok) return { ok: false, reason: canonical.reason };
  if (canonical.path.endsWith("/")) return { ok: false, reason: "file name names a directory" };
  // The canonical path holds only well-formed UTF-8 escapes, so this cannot fail today;
  // decoding here, guarded, keeps a future slip a refusal instead of an exception (500).
  let decoded: string;
  try {
    decoded = decodeURIComponent(canonical.path);
  } catch {
    return { ok: false, reason: "malformed percent-encoding in path" };
  }
  return { ok: true, path: canonical.path, decoded, query: canonical.query };
}

/**
 * The R2 key of a confined name. The canonical path holds no %2F, dot segment or bad
 * UTF-8, so its decoded form is real segment names ("/a%20b" is the object "a b").
 */
export function r2Key(root: Extract<SendfileRoot, { kind: "r2" }>, name: Extract<ResolvedName, { ok: true }>): string {
  return root.prefix + name.decoded;
}

/**
 * The origin URL of a confined name, or null if it would leave the configured origin
 * and prefix (it cannot: checked anyway, as the last word before a fetch).
 */
export function originFileUrl(
  originUrl: string,
  root: Extract<SendfileRoot, { kind: "origin" }>,
  name: Extract<ResolvedName, { ok: true }>,
): string | null {
  const url = originUrl + root.prefix + name.path + (name.query ? `?${name.query}` : "");
  const base = new URL(originUrl);
  const parsed = new URL(url);
  const within = base.pathname.replace(/\/+$/, "") + root.prefix + "/";
  return parsed.origin === base.origin && parsed.pathname.startsWith(within) ? url : null;
}
