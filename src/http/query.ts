/**
 * Canonical form of a request's query (RFC 3986 §3.4, normalised as §6.2.2 allows), so
 * that everything which keys on a query (the node's cache key, the base's signature over
 * it) sees one spelling per query, whatever a client or URL parser did to it on the way.
 *
 * - members are separated by "&"; empty members ("a&&b", a trailing "&") are dropped;
 *   order is kept (an origin may care about it);
 * - "%XX" of an unreserved character is decoded (§6.2.2.2: "%41" is "A", "%5F" is "_"),
 *   every other "%XX" keeps its escape with uppercase hex (§6.2.2.1);
 * - a "%" not followed by two hex digits is data and becomes "%25" (nothing decodes it, so
 *   malformed input never fails, it only gets a spelling);
 * - unreserved characters, sub-delims other than "'", ":", "@", "/" and "?" (query
 *   characters, §3.4) stay literal; everything else is percent-encoded as UTF-8 bytes.
 *   "'" is encoded because WHATWG URL parsers encode it in the query of http(s) URLs
 *   (the "special-query percent-encode set"): a browser following a Location would
 *   otherwise change the query it was given.
 *
 * The result is ASCII, contains no control character and no character a URI reference
 * may not hold (safe inside Location and Link `<…>`), and canonicalQuery is idempotent.
 * Linear in the input. Pure: no platform calls.
 */

const UNRESERVED = /^[A-Za-z0-9\-._~]$/;
const LITERAL = /^[A-Za-z0-9\-._~!$&()*+,;=:@/?]$/;
const HEX2 = /^[0-9A-Fa-f]{2}$/;
const utf8 = new TextEncoder();

function escapeByte(b: number): string {
  return "%" + b.toString(16).toUpperCase().padStart(2, "0");
}

/** One query member (no "&" inside) in canonical form. */
function canonicalMember(member: string): string {
  let out = "";
  for (let i = 0; i < member.length; i++) {
    const ch = member[i]!;
    if (ch === "%") {
      const hex = member.slice(i + 1, i + 3);
      if (!HEX2.test(hex)) {
        out += "%25";
        continue;
      }
      const decoded = String.fromCharCode(parseInt(hex, 16));
      out += UNRESERVED.test(decoded) ? decoded : "%" + hex.toUpperCase();
      i += 2;
    } else if (LITERAL.test(ch)) {
      out += ch;
    } else {
      // A whole code point (a surrogate pair is one character; a lone surrogate is
      // encoded by TextEncoder as U+FFFD, so the result is still deterministic).
      const cp = member.codePointAt(i)!;
      const char = String.fromCodePoint(cp);
      for (const b of utf8.encode(char)) out += escapeByte(b);
      i += char.length - 1;
    }
  }
  return out;
}

/**
 * One character of a canonical member: a literal query character other than "&", or an
 * uppercase "%XX" escape of a byte that is not unreserved (unreserved ones are decoded:
 * "-" 2D, "." 2E, digits 30-39, letters 41-5A and 61-7A, "_" 5F, "~" 7E).
 */
const CANONICAL_CHAR = "(?:[A-Za-z0-9\\-._~!$()*+,;=:@/?]|%(?:[01][0-9A-F]|2[0-9A-CF]|3[A-F]|40|5[B-E]|60|7[BCDF]|[89A-F][0-9A-F]))";
/**
 * A query canonicalQuery returns unchanged: non-empty members of canonical characters.
 * The alternatives are disjoint and "&" is in none of them, so the test is one linear
 * pass with no backtracking.
 */
const CANONICAL = new RegExp(`^${CANONICAL_CHAR}+(?:&${CANONICAL_CHAR}+)*$`);

/**
 * The canonical query (without "?"; "" when there is none). A literal "&" in it is
 * always a separator (data "&" stays "%26"), so splitting it on "&" gives its members.
 */
export function canonicalQuery(rawQuery: string): string {
  // Fast path (every request with a query comes here): most queries already are canonical,
  // and one regex test costs a fraction of re-encoding them character by character.
  if (rawQuery === "" || CANONICAL.test(rawQuery)) return rawQuery;
  const out: string[] = [];
  for (const member of rawQuery.split("&")) {
    if (member !== "") out.push(canonicalMember(member));
  }
  return out.join("&");
}

/** A canonical member's name: the part before the first "=" (the whole member without one). */
export function memberName(member: string): string {
  const eq = member.indexOf("=");
  return eq < 0 ? member : member.slice(0, eq);
}
