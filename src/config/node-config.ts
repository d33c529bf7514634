/**
 * Raw wrangler vars -> one typed, validated NodeConfig.
 *
 * Kept free of imports and of non-erasable TypeScript so the local stack
 * (scripts/dev-stack.mjs, plain Node with type stripping) validates the same
 * settings with the same messages before it starts any worker.
 */

export interface NodeConfig {
  /** Base origin, without trailing slash: the node only ever requests originUrl + normalised path. */
  originUrl: string;
  /** Name used in Cache-Status (RFC 9211 §2) and logs. */
  nodeId: string;
  /** Concurrent downloads of one URL per client (IPv6 grouped by /64); 0 disables the guard. */
  maxConnectionsPerClient: number;
  /** Smaller downloads are not counted: they end before an accelerator's second connection matters. */
  guardMinBytes: number;
  /** Client networks exempt from the guard. */
  connectionAllowlist: Cidr[];
  /** Skip the revalidation HEAD while the copy was confirmed less than this many seconds ago. */
  revalidateSeconds: number;
  /** Objects up to this size are also kept in the per-colo Cache API (platform limit 512 MB). */
  cacheApiMaxBytes: number;
  /** Time allowed for the origin to answer with headers before 504. */
  originTimeoutMs: number;
  /** Lifetime of a download slot without a heartbeat (a dead worker frees it after this). */
  leaseSeconds: number;
  /** Retry-After sent with a refused (503) download. */
  retryAfterSeconds: number;
  /** Whether the query string is part of the cache key and forwarded to the origin. */
  cacheKeyQuery: boolean;
  /** Whether client Cookie / Authorization are forwarded (responses then bypass the store). */
  forwardCredentials: boolean;
}

export interface Cidr {
  readonly family: 4 | 6;
  /** Network address as a big-endian bit string length 32 or 128, stored as bigint. */
  readonly network: bigint;
  readonly prefix: number;
}

export type RawVars = Record<string, unknown>;

/** Every variable parseNodeConfig reads (the local stack passes these through from its environment). */
export const NODE_VAR_NAMES = [
  "ORIGIN_URL", "NODE_ID", "MAX_CONNECTIONS_PER_CLIENT", "GUARD_MIN_BYTES", "CONNECTION_ALLOWLIST",
  "REVALIDATE_SECONDS", "CACHE_API_MAX_BYTES", "ORIGIN_TIMEOUT_MS", "LEASE_SECONDS",
  "RETRY_AFTER_SECONDS", "CACHE_KEY_QUERY", "FORWARD_CREDENTIALS",
] as const;

export class ConfigError extends Error {
  readonly field: string;
  constructor(field: string, reason: string) {
    super(`invalid config ${field}: ${reason}`);
    this.name = "ConfigError";
    this.field = field;
  }
}

/** Largest object the Cache API accepts (Workers limit), exclusive. */
export const CACHE_API_LIMIT = 512 * 1024 * 1024;

export function parseNodeConfig(vars: RawVars): NodeConfig {
  return {
    originUrl: originUrl(vars, "ORIGIN_URL"),
    nodeId: token(vars, "NODE_ID", "offload-node"),
    maxConnectionsPerClient: integer(vars, "MAX_CONNECTIONS_PER_CLIENT", 2, 0, 10_000),
    guardMinBytes: integer(vars, "GUARD_MIN_BYTES", 1024 * 1024, 0, Number.MAX_SAFE_INTEGER),
    connectionAllowlist: cidrList(vars, "CONNECTION_ALLOWLIST"),
    revalidateSeconds: integer(vars, "REVALIDATE_SECONDS", 0, 0, 31_536_000),
    cacheApiMaxBytes: integer(vars, "CACHE_API_MAX_BYTES", 256 * 1024 * 1024, 0, CACHE_API_LIMIT - 1),
    originTimeoutMs: integer(vars, "ORIGIN_TIMEOUT_MS", 15_000, 100, 600_000),
    leaseSeconds: integer(vars, "LEASE_SECONDS", 30, 3, 3600),
    retryAfterSeconds: integer(vars, "RETRY_AFTER_SECONDS", 5, 1, 3600),
    cacheKeyQuery: boolean(vars, "CACHE_KEY_QUERY", false),
    forwardCredentials: boolean(vars, "FORWARD_CREDENTIALS", false),
  };
}

function raw(vars: RawVars, field: string): string | undefined {
  const v = vars[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (typeof v !== "string") throw new ConfigError(field, "must be a string");
  const t = v.trim();
  return t === "" ? undefined : t;
}

function originUrl(vars: RawVars, field: string): string {
  const v = raw(vars, field);
  if (v === undefined) throw new ConfigError(field, "is required (e.g. https://downloads.example.com)");
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    throw new ConfigError(field, `"${v}" is not an absolute URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigError(field, `scheme must be http or https, got ${url.protocol}`);
  }
  if (url.username || url.password) throw new ConfigError(field, "must not carry credentials");
  if (url.search || url.hash) throw new ConfigError(field, "must not have a query or fragment");
  return url.origin + url.pathname.replace(/\/+$/, "");
}

function token(vars: RawVars, field: string, fallback: string): string {
  const v = raw(vars, field) ?? fallback;
  // An RFC 9110 token, so it can stand unquoted in Cache-Status.
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/.test(v)) {
    throw new ConfigError(field, `"${v}" must be 1-64 token characters (letters, digits, -._~)`);
  }
  return v;
}

function integer(vars: RawVars, field: string, fallback: number, min: number, max: number): number {
  const v = raw(vars, field);
  if (v === undefined) return fallback;
  if (!/^-?\d+$/.test(v)) throw new ConfigError(field, `"${v}" is not a whole number`);
  const n = Number(v);
  if (n < min || n > max) throw new ConfigError(field, `${n} is outside ${min}..${max}`);
  return n;
}

function boolean(vars: RawVars, field: string, fallback: boolean): boolean {
  const v = raw(vars, field);
  if (v === undefined) return fallback;
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  if (/^(0|false|no|off)$/i.test(v)) return false;
  throw new ConfigError(field, `"${v}" is not a boolean (true/false)`);
}

function cidrList(vars: RawVars, field: string): Cidr[] {
  const v = raw(vars, field);
  if (v === undefined) return [];
  return v.split(",").map((s) => s.trim()).filter(Boolean).map((s) => {
    const c = parseCidr(s);
    if (!c) throw new ConfigError(field, `"${s}" is not a CIDR (e.g. 192.0.2.0/24, 2001:db8::/32)`);
    return c;
  });
}

export function parseCidr(text: string): Cidr | undefined {
  const [addr, len, extra] = text.split("/");
  if (extra !== undefined || addr === undefined) return undefined;
  const ip = parseIp(addr);
  if (!ip) return undefined;
  const bits = ip.family === 4 ? 32 : 128;
  const prefix = len === undefined ? bits : /^\d{1,3}$/.test(len) ? Number(len) : NaN;
  if (!(prefix >= 0 && prefix <= bits)) return undefined;
  return { family: ip.family, network: maskBits(ip.value, bits, prefix), prefix };
}

export interface Ip {
  readonly family: 4 | 6;
  readonly value: bigint;
}

export function parseIp(text: string): Ip | undefined {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(text)) {
    const parts = text.split(".").map(Number);
    if (parts.some((p) => p > 255)) return undefined;
    return { family: 4, value: parts.reduce((acc, p) => (acc << 8n) | BigInt(p), 0n) };
  }
  return parseIpv6(text);
}

function parseIpv6(text: string): Ip | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(text) || text.split("::").length > 2) return undefined;
  let tail = text;
  let v4: bigint[] = [];
  // IPv4-mapped/embedded tail (e.g. ::ffff:192.0.2.1) counts as two groups.
  const dotted = /(?:^|:)(\d{1,3}(?:\.\d{1,3}){3})$/.exec(text);
  if (dotted?.[1]) {
    const ip4 = parseIp(dotted[1]);
    if (!ip4 || ip4.family !== 4) return undefined;
    v4 = [ip4.value >> 16n, ip4.value & 0xffffn];
    tail = text.slice(0, text.length - dotted[1].length) + "0:0";
    v4.length = 2;
  }
  const [head, rest] = tail.includes("::") ? tail.split("::") : [tail, undefined];
  const groups = (s: string | undefined) => (s ? s.split(":") : []);
  const h = groups(head);
  const r = groups(rest);
  if ([...h, ...r].some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  const missing = 8 - h.length - r.length;
  if (rest === undefined ? missing !== 0 : missing < 1) return undefined;
  const all = [...h, ...Array<string>(rest === undefined ? 0 : missing).fill("0"), ...r].map((g) => BigInt(parseInt(g, 16)));
  if (v4.length === 2) {
    all[6] = v4[0] as bigint;
    all[7] = v4[1] as bigint;
  }
  return { family: 6, value: all.reduce((acc, g) => (acc << 16n) | g, 0n) };
}

export function maskBits(value: bigint, bits: number, prefix: number): bigint {
  if (prefix === 0) return 0n;
  const keep = ((1n << BigInt(prefix)) - 1n) << BigInt(bits - prefix);
  return value & keep;
}

export function cidrContains(cidr: Cidr, ip: Ip): boolean {
  if (cidr.family !== ip.family) return false;
  return maskBits(ip.value, ip.family === 4 ? 32 : 128, cidr.prefix) === cidr.network;
}
