import type { TargetSpec } from "../config/targets";
import { sha256DigestField } from "../http/digest";
import { duplicateLinks, mirroredBy } from "../http/link";
import { METALINK_TYPE } from "../http/metalink";
import type { ObjectInfo } from "./object-info";

/**
 * "Mirroring Web Content" made standard: where else the file is (RFC 6249 Link
 * rel=duplicate, plus the older X-Mirrored-By lines), its digest (RFC 9530) and a
 * Metalink description (RFC 5854), so clients can verify and fetch from several
 * sources at once. `urlOf` gives each target's URL for this file (tokens included).
 */
export function mirrorHeaders(
  ranked: readonly TargetSpec[],
  urlOf: (t: TargetSpec) => string,
  info: ObjectInfo | null,
  metalinkUrl: string,
  wantReprDigest: string | null,
  maxLinks: number,
): Headers {
  const h = new Headers();
  const top = ranked.slice(0, maxLinks);
  const links = duplicateLinks(
    top.map((t, i) => ({ url: urlOf(t), priority: i + 1, ...(t.location?.country ? { geo: t.location.country.toLowerCase() } : {}) })),
    maxLinks,
  );
  const describedBy = `<${metalinkUrl}>; rel=describedby; type="${METALINK_TYPE}"`;
  h.set("link", links ? `${links}, ${describedBy}` : describedBy);
  for (const url of mirroredBy(top.map(urlOf))) h.append("x-mirrored-by", url);
  if (info?.sha256 && wantsSha256(wantReprDigest)) h.set("repr-digest", sha256DigestField(info.sha256));
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
