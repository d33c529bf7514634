import type { BaseConfig } from "../config/base-config";
import { matchGlob } from "../config/glob";
import { cidrContains, parseIp } from "../net/ip";
import type { ObjectInfo } from "./object-info";

export type Decision = { offload: true } | { offload: false; reason: string };

/**
 * mod_offload's base rules, on what the request alone says: method, path patterns,
 * User-Agent and client network. Cheap, so it runs before anything is looked up.
 */
export function requestDecision(config: BaseConfig, method: string, path: string, headers: Headers): Decision {
  if (method !== "GET" && method !== "HEAD") return { offload: false, reason: "method" };
  if (!config.include.some((g) => matchGlob(g, path))) return { offload: false, reason: "not-included" };
  if (config.exclude.some((g) => matchGlob(g, path))) return { offload: false, reason: "excluded-path" };
  if (config.excludeUserAgents.length > 0) {
    const ua = (headers.get("user-agent") ?? "").toLowerCase();
    if (config.excludeUserAgents.some((s) => ua.includes(s))) return { offload: false, reason: "excluded-agent" };
  }
  if (config.excludeClients.length > 0) {
    const ip = parseIp(headers.get("cf-connecting-ip")?.trim() ?? "");
    if (ip && config.excludeClients.some((c) => cidrContains(c, ip))) return { offload: false, reason: "excluded-client" };
  }
  return { offload: true };
}

/** The rules that need the file: it must exist, be big enough and not of an excluded type. */
export function objectDecision(config: BaseConfig, info: ObjectInfo | null): Decision {
  if (!info) return { offload: false, reason: "origin-unreachable" };
  if (info.status !== 200) return { offload: false, reason: `origin-status-${info.status}` };
  if (info.size === null) return { offload: false, reason: "no-length" };
  if (info.size < config.minBytes) return { offload: false, reason: "small" };
  const type = (info.contentType ?? "").toLowerCase();
  if (config.excludeTypes.some((t) => type.startsWith(t))) return { offload: false, reason: "excluded-type" };
  return { offload: true };
}
