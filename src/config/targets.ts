/**
 * OFFLOAD_NODES / MIRRORS: where the base may send a client. Either a JSON array of
 * objects (wrangler.toml can hold it as a JSON var) or a plain comma-separated list of
 * URLs. Errors name the field and the entry: `OFFLOAD_NODES[1].url: ...`.
 */
import { ConfigError, type RawVars } from "./fields.ts";

export interface TargetSpec {
  id: string;
  /** Absolute base URL without trailing slash; the request path is appended. */
  url: string;
  kind: "node" | "mirror";
  weight: number;
  /** Path prefixes this target holds; empty = everything. */
  prefixes: string[];
  location?: { lat: number; lon: number; country?: string; continent?: string };
  /** Path probed by the active health check. */
  healthPath: string;
  /**
   * Mirrors only: the mirror is the origin's server kind and sends the origin's ETags, so
   * the inventory compares them too (other servers derive their own; size and date then).
   */
  originEtags?: boolean;
  /**
   * Autonomous systems (RFC 1930) the target sits in or serves best: a client whose
   * request.cf.asn is listed is sent here before any other target (network strategy).
   */
  asns?: number[];
  /**
   * Address families the target serves. Undeclared = served (true): only `false` excludes,
   * so a client of that family (by CF-Connecting-IP) is never sent or pointed here.
   */
  ipv4?: boolean;
  ipv6?: boolean;
  /**
   * Mirrors only: a checksum list in sha256sum format (`<hex>  <path>`, paths relative to
   * the mirror's url) the Cron's scans read instead of one HEAD per file (src/mirrors/scan.ts).
   */
  scanUrl?: string;
}

const NODE_HEALTH_PATH = "/.well-known/offload/health";

export function targetList(vars: RawVars, field: string, kind: "node" | "mirror"): TargetSpec[] {
  const value = vars[field];
  if (value === undefined || value === null || value === "") return [];
  let entries: unknown[];
  if (Array.isArray(value)) entries = value;
  else if (typeof value === "string" && value.trim().startsWith("[")) {
    try {
      entries = JSON.parse(value) as unknown[];
    } catch (e) {
      throw new ConfigError(field, `is not valid JSON: ${(e as Error).message}`);
    }
    if (!Array.isArray(entries)) throw new ConfigError(field, "must be a JSON array");
  } else if (typeof value === "string") entries = value.split(",").map((s) => s.trim()).filter(Boolean);
  else throw new ConfigError(field, "must be a JSON array or a comma-separated list of URLs");

  const seen = new Set<string>();
  return entries.map((entry, i) => {
    const t = targetSpec(typeof entry === "string" ? { url: entry } : entry, `${field}[${i}]`, kind);
    if (seen.has(t.id)) throw new ConfigError(`${field}[${i}].id`, `"${t.id}" is used twice`);
    seen.add(t.id);
    return t;
  });
}

/**
 * One target from its JSON form; throws a ConfigError naming `where.field`. Exported for
 * the mirror catalog (src/mirrors/), which checks mirrors added at run time by the same rules.
 */
export function targetSpec(entry: unknown, where: string, kind: "node" | "mirror"): TargetSpec {
  if (typeof entry !== "object" || entry === null) throw new ConfigError(where, "must be a URL or an object with a url");
  const e = entry as Record<string, unknown>;
  const url = targetUrl(e["url"], `${where}.url`);
  const id = e["id"] ?? new URL(url).host;
  if (typeof id !== "string" || !/^[A-Za-z0-9._:-]{1,64}$/.test(id)) throw new ConfigError(`${where}.id`, "must be 1-64 of A-Z a-z 0-9 . _ : -");
  const weight = e["weight"] ?? 1;
  if (typeof weight !== "number" || !(weight > 0) || weight > 1_000_000) throw new ConfigError(`${where}.weight`, "must be a number > 0");
  const prefixes = e["prefixes"] ?? [];
  if (!Array.isArray(prefixes) || prefixes.some((p) => typeof p !== "string" || !p.startsWith("/"))) {
    throw new ConfigError(`${where}.prefixes`, 'must be a list of paths starting with "/"');
  }
  const healthPath = e["healthPath"] ?? (kind === "node" ? NODE_HEALTH_PATH : "/");
  if (typeof healthPath !== "string" || !healthPath.startsWith("/")) throw new ConfigError(`${where}.healthPath`, 'must start with "/"');
  const spec: TargetSpec = { id, url, kind, weight, prefixes: prefixes as string[], healthPath };
  if (e["location"] !== undefined) spec.location = location(e["location"], `${where}.location`);
  if (e["originEtags"] !== undefined) {
    if (kind !== "mirror") throw new ConfigError(`${where}.originEtags`, "applies to mirrors only");
    if (typeof e["originEtags"] !== "boolean") throw new ConfigError(`${where}.originEtags`, "must be true or false");
    spec.originEtags = e["originEtags"];
  }
  networkFields(e, where, spec);
  if (e["scanUrl"] !== undefined) {
    if (kind !== "mirror") throw new ConfigError(`${where}.scanUrl`, "applies to mirrors only");
    spec.scanUrl = targetUrl(e["scanUrl"], `${where}.scanUrl`);
  }
  return spec;
}

/** asns, ipv4 and ipv6 (issue #14: network-aware choice), validated into `spec`. */
function networkFields(e: Record<string, unknown>, where: string, spec: TargetSpec): void {
  const asns = e["asns"];
  if (asns !== undefined) {
    // AS 0 is reserved and never announced (RFC 7607); AS numbers are 32-bit (RFC 6793).
    if (!Array.isArray(asns) || asns.some((a) => !Number.isInteger(a) || a < 1 || a > 4_294_967_295)) {
      throw new ConfigError(`${where}.asns`, "must be a list of AS numbers (integers 1-4294967295)");
    }
    spec.asns = [...new Set(asns as number[])];
  }
  for (const k of ["ipv4", "ipv6"] as const) {
    const v = e[k];
    if (v === undefined) continue;
    if (typeof v !== "boolean") throw new ConfigError(`${where}.${k}`, "must be true or false");
    spec[k] = v;
  }
  if (spec.ipv4 === false && spec.ipv6 === false) throw new ConfigError(`${where}.ipv6`, "ipv4 and ipv6 are both false: the target would serve no client");
}

function targetUrl(v: unknown, where: string): string {
  if (typeof v !== "string") throw new ConfigError(where, v === undefined ? "is required" : "must be a URL string");
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    throw new ConfigError(where, `"${v}" is not an absolute URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new ConfigError(where, "must be http or https");
  if (url.username || url.password || url.search || url.hash) throw new ConfigError(where, "must not carry credentials, query or fragment");
  return url.origin + url.pathname.replace(/\/+$/, "");
}

function location(v: unknown, where: string): NonNullable<TargetSpec["location"]> {
  const l = v as Record<string, unknown>;
  const lat = l?.["lat"];
  const lon = l?.["lon"];
  if (typeof lat !== "number" || lat < -90 || lat > 90) throw new ConfigError(`${where}.lat`, "must be a number in -90..90");
  if (typeof lon !== "number" || lon < -180 || lon > 180) throw new ConfigError(`${where}.lon`, "must be a number in -180..180");
  const out: NonNullable<TargetSpec["location"]> = { lat, lon };
  for (const k of ["country", "continent"] as const) {
    const s = l[k];
    if (s === undefined) continue;
    if (typeof s !== "string" || !/^[A-Za-z]{2}$/.test(s)) throw new ConfigError(`${where}.${k}`, "must be a two-letter code");
    out[k] = s.toUpperCase();
  }
  return out;
}
