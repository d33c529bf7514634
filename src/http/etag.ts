/**
 * Entity tags (RFC 9110 §8.8.3): parsing, the strong and weak comparison
 * functions (§8.8.3.2), and matching against an If-Match / If-None-Match /
 * If-Range list (§13.1.1, §13.1.2).
 *
 *   entity-tag = [ weak ] opaque-tag     weak = %s"W/"
 *   opaque-tag = DQUOTE *etagc DQUOTE    etagc = %x21 / %x23-7E / obs-text
 *
 * Commas are legal inside an opaque-tag, so lists are split only on commas
 * outside quotes. (nginx splits on every comma; it cannot matter for the
 * etags nginx generates, which contain no comma.)
 */

export interface EntityTag {
  weak: boolean;
  /** The opaque-tag including its quotes. */
  opaque: string;
}

const ENTITY_TAG = /^(W\/)?("[\x21\x23-\x7E\x80-\xFF]*")$/;

/** Parses one entity-tag (surrounding whitespace allowed); undefined when malformed. */
export function parseEntityTag(text: string): EntityTag | undefined {
  const m = ENTITY_TAG.exec(text.trim());
  if (!m || m[2] === undefined) return undefined;
  return { weak: m[1] !== undefined, opaque: m[2] };
}

/** Splits a field value on commas that are outside quoted strings; members trimmed, empty ones dropped (§5.6.1). */
export function splitEntityTagList(list: string): string[] {
  const members: string[] = [];
  let current = "";
  let quoted = false;
  for (const ch of list) {
    if (ch === '"') quoted = !quoted;
    if (ch === "," && !quoted) {
      members.push(current);
      current = "";
    } else {
      current += ch;
    }
  }
  members.push(current);
  return members.map((m) => m.trim()).filter((m) => m.length > 0);
}

/** §8.8.3.2 strong comparison: both strong and opaque-tags identical. */
export function strongCompare(a: EntityTag, b: EntityTag): boolean {
  return !a.weak && !b.weak && a.opaque === b.opaque;
}

/** §8.8.3.2 weak comparison: opaque-tags identical, weakness ignored. */
export function weakCompare(a: EntityTag, b: EntityTag): boolean {
  return a.opaque === b.opaque;
}

/**
 * Whether the field value `list` ("*" or a list of entity-tags) matches the
 * current entity-tag `etag`, with the weak (`weak` = true, If-None-Match) or
 * strong (If-Match) comparison. "*" matches any current representation.
 * A stored etag that is not a valid entity-tag (some origins send it bare)
 * only matches a member written exactly the same way.
 */
export function etagMatches(list: string, etag: string, weak: boolean): boolean {
  if (list.trim() === "*") return true;
  const members = splitEntityTagList(list);
  const current = parseEntityTag(etag);
  if (current === undefined) {
    const raw = etag.trim();
    return raw.length > 0 && members.some((m) => m === raw);
  }
  return members.some((m) => {
    const candidate = parseEntityTag(m);
    if (candidate === undefined) return false;
    return weak ? weakCompare(candidate, current) : strongCompare(candidate, current);
  });
}
