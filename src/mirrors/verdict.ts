/**
 * Whether a mirror's copy is the origin's current version, from one HEAD answer. Pure:
 * no platform calls, so every rule is testable on plain values. A copy is "current" only
 * when proven so; anything we cannot compare is an "error", never a guess.
 */
import { sha256FromDigestField } from "../http/digest";
import { parseHttpDate } from "../http/http-date";

export type Verdict = "current" | "outdated" | "missing" | "error";

export interface Judged {
  verdict: Verdict;
  /** Why, for logs and the admin (never sent to clients). */
  detail: string;
}

/** What identifies one version of a file, on the origin or on a mirror. */
export interface FileVersion {
  size: number | null;
  lastModified: string | null;
  etag: string | null;
  /** Lowercase hex, when known. */
  sha256: string | null;
}

/** One key per origin version: a verdict about another version says nothing about this one. */
export function versionKey(v: FileVersion): string {
  return `${v.size ?? ""}|${v.lastModified ?? ""}|${v.etag ?? ""}`;
}

/** The version a mirror's HEAD answer describes (RFC 9110 §8.6, §8.8; RFC 9530 §3). */
export function versionOfHead(headers: Headers): FileVersion {
  const length = headers.get("content-length");
  return {
    size: length !== null && /^\d+$/.test(length) ? Number(length) : null,
    lastModified: headers.get("last-modified"),
    etag: headers.get("etag"),
    sha256: sha256FromDigestField(headers.get("repr-digest")) ?? legacySha256(headers.get("digest")) ?? null,
  };
}

/**
 * `status`: the mirror's answer to HEAD of the file. `originEtags`: the mirror is the same
 * server kind as the origin, so equal files have equal ETags; other servers derive their
 * own (nginx: mtime-size, Apache: inode too), so an ETag there proves nothing.
 */
export function judgeCopy(origin: FileVersion, status: number, mirror: FileVersion, originEtags: boolean): Judged {
  if (status === 404 || status === 410) return { verdict: "missing", detail: `HTTP ${status}` };
  if (status < 200 || status > 299) return { verdict: "error", detail: `HTTP ${status}` };
  if (origin.size === null) return { verdict: "error", detail: "the origin's size is unknown" };
  if (mirror.size === null) return { verdict: "error", detail: "no Content-Length" };
  if (mirror.size !== origin.size) return { verdict: "outdated", detail: `size ${mirror.size}, origin ${origin.size}` };
  if (origin.sha256 && mirror.sha256) {
    return mirror.sha256 === origin.sha256 ? { verdict: "current", detail: "same size and SHA-256" } : { verdict: "outdated", detail: "other SHA-256" };
  }
  if (originEtags && origin.etag && mirror.etag) {
    return mirror.etag === origin.etag ? { verdict: "current", detail: "same size and ETag" } : { verdict: "outdated", detail: `ETag ${mirror.etag}, origin ${origin.etag}` };
  }
  const originDate = origin.lastModified === null ? undefined : parseHttpDate(origin.lastModified);
  const mirrorDate = mirror.lastModified === null ? undefined : parseHttpDate(mirror.lastModified);
  if (originDate === undefined) return { verdict: "error", detail: "the origin sends no Last-Modified to compare with" };
  if (mirrorDate === undefined) return { verdict: "error", detail: "no Last-Modified" };
  // rsync -t keeps the origin's mtime; a copy made without it is younger. Only an older
  // copy is known to be a previous version (a same-size update keeps the size, not the date).
  if (mirrorDate < originDate) return { verdict: "outdated", detail: `Last-Modified ${mirror.lastModified}, origin ${origin.lastModified}` };
  return { verdict: "current", detail: "same size, not older" };
}

/** RFC 3230 `Digest: SHA-256=<base64>` (obsoleted by RFC 9530, still sent by mirror software). */
function legacySha256(value: string | null): string | undefined {
  const m = value ? /(?:^|,)\s*sha-256=([A-Za-z0-9+/]+={0,2})\s*(?:,|$)/i.exec(value) : null;
  return m?.[1] ? sha256FromDigestField(`sha-256=:${m[1]}:`) : undefined;
}
