/**
 * Where a redirect token travels: one `offload_token` member of the query. Base and node
 * split a query the same way, on its canonical form (http/query.ts), so that
 * - the base drops every token a client sent before it signs and appends its own (a
 *   published link `…?offload_token=junk` cannot shadow the real one);
 * - the node finds the token whatever spelling reached it (`offload%5Ftoken` is
 *   `offload_token` once canonical), refuses a query with two, and keys (and signs) the
 *   rest of the query in exactly the form the base signed.
 * Nothing here percent-decodes a value, so no input can make it throw.
 */
import { canonicalQuery, memberName } from "../http/query";
import { TOKEN_PARAM } from "./redirect-token";

export interface TokenQuery {
  /** The canonical query without any token member ("" when nothing is left). */
  query: string;
  /** The raw value of every token member, in order ("" for a bare `offload_token`). */
  tokens: string[];
}

export function partitionTokenQuery(rawQuery: string): TokenQuery {
  const canonical = canonicalQuery(rawQuery);
  // A token member's name is spelled literally once canonical: no name, no token.
  if (!canonical.includes(TOKEN_PARAM)) return { query: canonical, tokens: [] };
  const kept: string[] = [];
  const tokens: string[] = [];
  for (const member of canonical ? canonical.split("&") : []) {
    if (memberName(member) !== TOKEN_PARAM) kept.push(member);
    else tokens.push(member.slice(TOKEN_PARAM.length + 1));
  }
  return { query: kept.join("&"), tokens };
}

/**
 * False only when no spelling of a token member can be in `rawQuery`, checked without
 * canonicalising it: canonicalQuery changes letters only by decoding "%XX", so a query
 * with no "%" holds a token member only if it holds the name literally. (Case matters:
 * "Offload_token" is not a token, at the node or at the base.)
 */
export function mayHoldToken(rawQuery: string): boolean {
  return rawQuery.includes("%") || rawQuery.includes(TOKEN_PARAM);
}

/**
 * `query` (canonical, token-free) with `token` appended as the last member. A token is
 * ASCII letters, digits, "_", "-" and "." only: it needs no escaping.
 */
export function withTokenMember(query: string, token: string): string {
  return `${query ? `${query}&` : ""}${TOKEN_PARAM}=${token}`;
}
