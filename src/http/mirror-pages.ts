/**
 * Which of the base's per-file pages a request asks for, and the checksum line one of them
 * answers with. Pure: no platform calls, nothing here can throw on client input.
 *
 * The pages (MirrorBrain's names, so its users' links and scripts keep working):
 * - `<file>?mirrorlist`: an HTML list of where the file can be fetched (mirrorlist-html.ts);
 * - `<file>?sha256` and `<file>.sha256`: one line in sha256sum's format;
 * - `<file>.meta4`: the Metalink (metalink.ts), recognised by the base's app.
 *
 * A query flag is read on the canonical query (query.ts, RFC 3986 §6.2.2), so
 * `?%6Dirrorlist` asks for the same page as `?mirrorlist`; the other members stay the
 * file's query, as a redirect would carry them to the targets.
 */
import { canonicalQuery, memberName } from "./query";
import { fileNameFromPath } from "./metalink";

export type QueryPage = "mirrorlist" | "sha256";
const FLAGS: readonly QueryPage[] = ["mirrorlist", "sha256"];

export type PageQuery =
  | { page: null }
  | { page: QueryPage; query: string }
  | { page: "bad"; reason: string };

/**
 * The page a raw query asks for (`page: null` for none), with the file's own query left
 * over (canonical, "" when nothing is left). A flag takes no value; two flags, or one
 * given twice, are refused: one answer per request.
 */
export function pageInQuery(rawQuery: string): PageQuery {
  // canonicalQuery changes letters only by decoding "%XX": without "%" a flag is spelled
  // literally or absent, and the common request costs two substring tests.
  if (rawQuery === "" || (!rawQuery.includes("%") && !FLAGS.some((f) => rawQuery.includes(f)))) return { page: null };
  const kept: string[] = [];
  const asked: QueryPage[] = [];
  for (const member of canonicalQuery(rawQuery).split("&")) {
    const name = memberName(member);
    const flag = FLAGS.find((f) => f === name);
    if (!flag) {
      if (member !== "") kept.push(member);
      continue;
    }
    if (member.length > name.length + 1) return { page: "bad", reason: `query member "${flag}" takes no value` };
    asked.push(flag);
  }
  if (asked.length === 0) return { page: null };
  if (asked.length > 1) return { page: "bad", reason: `query asks for ${asked.join(" and ")}: ask for one page (mirrorlist or sha256) at a time` };
  return { page: asked[0]!, query: kept.join("&") };
}

const SHA256_HEX = /^[0-9a-f]{64}$/i;

export type ChecksumLine = { ok: true; line: string } | { ok: false; reason: string };

/**
 * `<hex>  <name>\n`, the line GNU `sha256sum` writes and `sha256sum -c` reads (coreutils
 * manual, "md5sum invocation": hash, a space, a space for text mode, the file name). The
 * name is the path's last segment, decoded: what `curl -O` or `wget` saves the file as,
 * so `sha256sum -c` finds it beside the checksum. Names sha256sum would escape (a
 * backslash or newline) or that hold control characters are refused by fileNameFromPath.
 */
export function sha256sumLine(sha256Hex: string, path: string): ChecksumLine {
  if (!SHA256_HEX.test(sha256Hex)) return { ok: false, reason: "SHA-256 must be 64 hex digits" };
  const name = fileNameFromPath(path);
  if (!name.ok) return name;
  return { ok: true, line: `${sha256Hex.toLowerCase()}  ${name.name}\n` };
}
