/**
 * A mirror's checksum list in the format of GNU coreutils' `sha256sum` (what `sha256sum
 * -c` reads): one `<64 hex>  <path>` line per file, or `<64 hex> *<path>` in binary mode.
 * Pure: text in, what was accepted and what was rejected (with the line and why) out.
 *
 * Paths are relative to the mirror's configured url, as `sha256sum` prints them when run
 * at the mirror's root (`find . -type f -exec sha256sum {} +`): `./iso/a.iso`, `iso/a.iso`
 * and `/iso/a.iso` all name `<mirror url>/iso/a.iso`, the request path `/iso/a.iso`.
 */

export interface ChecksumList {
  /** Request path ("/iso/a.iso") -> lowercase hex SHA-256. */
  sha256: Map<string, string>;
  rejected: { line: number; reason: string }[];
}

/** Rejections kept (the first ones): a list of garbage should not fill the logs or memory. */
const MAX_REJECTED = 20;

export function parseChecksumList(text: string): ChecksumList {
  const out: ChecksumList = { sha256: new Map(), rejected: [] };
  const reject = (line: number, reason: string) => void (out.rejected.length < MAX_REJECTED && out.rejected.push({ line, reason }));
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.endsWith("\r") ? lines[i]!.slice(0, -1) : lines[i]!;
    if (line === "" || line.startsWith("#")) continue;
    // sha256sum starts a line with "\" when the name holds a backslash or newline it escaped:
    // such names are not paths we serve.
    if (line.startsWith("\\")) {
      reject(i + 1, "escaped file name");
      continue;
    }
    const m = /^([0-9A-Fa-f]{64}) [ *](.+)$/.exec(line);
    if (!m) {
      reject(i + 1, "not `<64 hex digits>  <path>`");
      continue;
    }
    const path = requestPath(m[2]!);
    if (path === null) {
      reject(i + 1, "path leaves the mirror's root or is empty");
      continue;
    }
    out.sha256.set(path, m[1]!.toLowerCase());
  }
  return out;
}

/** "./a/b", "a/b" or "/a/b" -> "/a/b" (percent-encoded); null for "..", "." segments inside or an empty name. */
function requestPath(name: string): string | null {
  const rel = name.replace(/^\.\//, "").replace(/^\/+/, "");
  if (rel === "") return null;
  const segments = rel.split("/");
  if (segments.some((s) => s === "" || s === "." || s === "..")) return null;
  // Encoded as a request's URL path is (a space as %20...), the form the inventory keys on.
  return new URL(`/${rel}`, "http://mirror.invalid").pathname;
}
