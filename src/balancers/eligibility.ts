/**
 * Which targets may serve a path at all. Health is decided elsewhere (active
 * checks, passive marks); this only reads it, so a strategy never sees a
 * target it must not choose, and every exclusion carries a reason for logs
 * and the admin page.
 */

import type { Candidate, Excluded, Target, TargetState } from "./types";

/**
 * True when `prefix` covers `path` on a segment boundary: "/iso/" and "/iso"
 * both cover "/iso/x.iso", but "/iso" does not cover "/isolinux/x" — a plain
 * startsWith would send those requests to a mirror that lacks them.
 */
export function prefixCovers(prefix: string, path: string): boolean {
  if (prefix === "" || !path.startsWith(prefix)) return false;
  return prefix.endsWith("/") || path.length === prefix.length || path[prefix.length] === "/";
}

export function eligible(
  targets: readonly Target[],
  path: string,
  stateOf: (id: string) => TargetState,
): { candidates: Candidate[]; excluded: Excluded[] } {
  const candidates: Candidate[] = [];
  const excluded: Excluded[] = [];
  for (const target of targets) {
    // Content first: a target that does not hold the file is not a candidate
    // whatever its health, and that is the more useful reason to log.
    if (!target.prefixes.some((p) => prefixCovers(p, path))) {
      const held = target.prefixes.length > 0 ? `prefixes ${target.prefixes.join(" ")}` : "no prefixes";
      excluded.push({ target, reason: `does not hold ${path} (${held})` });
      continue;
    }
    const state = stateOf(target.id);
    if (!state.healthy) {
      excluded.push({ target, reason: state.reason || "unhealthy" });
      continue;
    }
    candidates.push({ target, state });
  }
  return { candidates, excluded };
}
