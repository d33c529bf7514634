/**
 * Which targets may serve a path at all. Health is decided elsewhere (active
 * checks, passive marks); this only reads it, so a strategy never sees a
 * target it must not choose, and every exclusion carries a reason for logs
 * and the admin page.
 */

import type { Candidate, ClientInfo, Excluded, Target, TargetState } from "./types";

/**
 * True when `prefix` covers `path` on a segment boundary: "/iso/" and "/iso"
 * both cover "/iso/x.iso", but "/iso" does not cover "/isolinux/x" — a plain
 * startsWith would send those requests to a mirror that lacks them.
 */
export function prefixCovers(prefix: string, path: string): boolean {
  if (prefix === "" || !path.startsWith(prefix)) return false;
  return prefix.endsWith("/") || path.length === prefix.length || path[prefix.length] === "/";
}

/**
 * True unless the target declares it does not serve the client's address family: an IPv6
 * client sent to an IPv4-only host cannot connect at all (and the reverse), whatever the
 * strategy would prefer. An unknown family (no usable CF-Connecting-IP) excludes nothing.
 */
function servesFamily(target: Target, family: 4 | 6 | undefined): boolean {
  return family === 6 ? target.ipv6 !== false : family === 4 ? target.ipv4 !== false : true;
}

/** Where the request goes: the path, and the client when its address family is known. */
interface Wanted {
  path: string;
  client?: Pick<ClientInfo, "family">;
}

export function eligible(
  targets: readonly Target[],
  wanted: string | Wanted,
  stateOf: (id: string) => TargetState,
): { candidates: Candidate[]; excluded: Excluded[] } {
  const candidates: Candidate[] = [];
  const excluded: Excluded[] = [];
  const path = typeof wanted === "string" ? wanted : wanted.path;
  const family = typeof wanted === "string" ? undefined : wanted.client?.family;
  for (const target of targets) {
    // Content first: a target that does not hold the file is not a candidate
    // whatever its health, and that is the more useful reason to log.
    if (!target.prefixes.some((p) => prefixCovers(p, path))) {
      const held = target.prefixes.length > 0 ? `prefixes ${target.prefixes.join(" ")}` : "no prefixes";
      excluded.push({ target, reason: `does not hold ${path} (${held})` });
      continue;
    }
    if (!servesFamily(target, family)) {
      excluded.push({ target, reason: `does not serve IPv${family} clients` });
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
