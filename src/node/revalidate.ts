import type { NodeConfig } from "../config/node-config";
import { discard, headOf, originFetch } from "../origin/origin";
import { fitsInMetadata, isStorable, sameRepresentation, versionOf, type OriginHead, type StoredMeta } from "../store/meta";

export type Revalidation =
  | { kind: "unchanged"; fwdStatus: number }
  | { kind: "changed"; head: OriginHead & { length: number }; version: string }
  | { kind: "uncacheable"; head: OriginHead; why: string }
  | { kind: "gone"; status: 404 | 410 }
  | { kind: "other"; status: number }
  | { kind: "error"; status: 502 | 504; reason: string; fwdStatus?: number };

/**
 * mod_offload's check: a HEAD to the base origin decides whether our copy is still good.
 * With a stored copy it is conditional (RFC 9110 §13.1.1, §13.1.3), so an unchanged
 * file costs the origin one 304 and no body.
 */
export async function revalidate(config: NodeConfig, target: string, meta: StoredMeta | null, requestId: () => string): Promise<Revalidation> {
  const conditional: Record<string, string> = {};
  if (meta?.etag) conditional["if-none-match"] = meta.etag;
  else if (meta?.lastModified) conditional["if-modified-since"] = meta.lastModified;

  const answer = await originFetch(config, { method: "HEAD", target, headers: conditional, requestId });
  if (!answer.ok) return { kind: "error", status: answer.kind === "timeout" ? 504 : 502, reason: answer.reason };
  const res = answer.response;
  discard(res);

  if (res.status === 304) return meta ? { kind: "unchanged", fwdStatus: 304 } : { kind: "other", status: 304 };
  if (res.status === 404 || res.status === 410) return { kind: "gone", status: res.status };
  if (res.status >= 500) {
    return { kind: "error", status: 502, reason: `origin answered ${res.status}`, fwdStatus: res.status };
  }
  if (res.status !== 200) return { kind: "other", status: res.status };

  const head = headOf(res);
  // Origins that ignore conditionals answer 200 with the same validators: still unchanged.
  if (meta && sameRepresentation(meta, head)) return { kind: "unchanged", fwdStatus: 200 };
  if (!isStorable(head)) {
    const why = head.length === null ? "no-length" : "no-validator";
    return { kind: "uncacheable", head, why };
  }
  if (!fitsInMetadata(target, head)) return { kind: "uncacheable", head, why: "headers-too-large" };
  return { kind: "changed", head, version: await versionOf(head) };
}

/**
 * An unconditional HEAD's verdict, sent before our copy was found (REVALIDATE_SECONDS=0,
 * see serve-object.ts), judged against that copy as revalidate() judges an origin that
 * ignores conditionals: the same validators are the same representation (RFC 9110 §8.8).
 */
export function againstCopy(check: Revalidation, meta: StoredMeta | null): Revalidation {
  if (meta && (check.kind === "changed" || check.kind === "uncacheable") && sameRepresentation(meta, check.head)) return { kind: "unchanged", fwdStatus: 200 };
  return check;
}
