import type { TargetSpec } from "../config/targets";
import { METALINK_TYPE } from "../http/metalink";
import type { ObjectInfo } from "./object-info";

/**
 * "Mirroring Web Content" made standard: where else the file is (RFC 6249 Link
 * rel=duplicate, plus the older X-Mirrored-By lines), its digest (RFC 9530) and a
 * Metalink description (RFC 5854), so clients can verify and fetch from several
 * sources at once. `urlOf` gives each target's URL for this file (tokens included).
 */
export interface MirrorFacts {
  ranked: readonly TargetSpec[];
  urlOf: (t: TargetSpec) => string;
  info: ObjectInfo | null;
  metalinkUrl: string;
  /** The request's Want-Repr-Digest field, if any. */
  wantReprDigest: string | null;
  maxLinks: number;
}

/** Header fields as name/value pairs, in order; a name may repeat (one field line each). */
export type FieldPairs = [string, string][];

/**
 * Pairs rather than a Headers object: the redirect makes its Headers from them in one
 * call, where a set or append per field would each cross into the runtime (issue #13).
 */
export function mirrorHeaders({ ranked, urlOf, info, metalinkUrl, wantReprDigest, maxLinks }: MirrorFacts): FieldPairs {
  const top = ranked.slice(0, maxLinks);
  // Built directly rather than through the general RFC 8288 serializer: every URL here is
  // a target URL validated at config time + a canonical path + an encoded query, so the
  // per-request checks would only ever pass (this runs on every redirect).
  const links = top.map((t, i) => {
    const geo = t.location?.country ? `; geo=${t.location.country.toLowerCase()}` : "";
    return `<${urlOf(t)}>; rel=duplicate; pri=${i + 1}${geo}`;
  });
  links.push(`<${metalinkUrl}>; rel=describedby; type="${METALINK_TYPE}"`);
  const h: FieldPairs = [["link", links.join(", ")]];
  for (const t of top) h.push(["x-mirrored-by", urlOf(t)]);
  if (info?.reprDigest && wantsSha256(wantReprDigest)) h.push(["repr-digest", info.reprDigest]);
  return h;
}

/**
 * RFC 9530 §4: Want-Repr-Digest lists algorithms with preferences 0..10, 0 meaning "not
 * acceptable". Without the field a digest may be sent unasked.
 */
export function wantsSha256(want: string | null): boolean {
  if (want === null || want.trim() === "") return true;
  for (const member of want.split(",")) {
    const m = /^\s*([a-z0-9-]+)\s*=\s*(\d+)\s*$/i.exec(member);
    if (m?.[1]?.toLowerCase() === "sha-256") return Number(m[2]) > 0;
  }
  return false;
}
