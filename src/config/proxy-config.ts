/**
 * PROXY_ROUTES: the base's reverse-proxy pools (lighttpd mod_proxy_core), one route per
 * path prefix (and optional Host), each with its backends, balancer, header rewrites and
 * failover settings. A JSON array, as a string var or an array:
 *
 *   [{ "prefix": "/app/", "host": "www.example.com", "balancer": "fair",
 *      "backends": ["http://10.0.0.1:8080", { "id": "b2", "url": "http://10.0.0.2:8080", "weight": 2 }],
 *      "rewriteRequest": [{ "header": "uri", "match": "^/app/(.*)$", "replace": "/$1" }],
 *      "rewriteResponse": [{ "header": "location", "match": "^http://10\\.0\\.0\\.\\d+:8080/(.*)$", "replace": "https://www.example.com/app/$1" }],
 *      "timeoutMs": 5000, "retries": 1, "fallbackUrl": "https://static.example.com",
 *      "forwarded": true, "trustedProxies": ["10.0.0.0/8"] }]
 *
 * Regexes are compiled here, once, for RE2 (re2js): JavaScript regex syntax minus
 * backreferences and lookaround, matched in time linear in the value, so a rule such as
 * "(a+)+$" cannot be turned into a denial of service by a client-chosen URI or header.
 * Every error names the field, e.g. `invalid config PROXY_ROUTES[2].rewriteRequest[0].match: ...`.
 * Erasable TypeScript with .ts imports only (plain Node validates it in the local stack).
 */
import { RE2JS } from "re2js";
import { parseCidr, type Cidr } from "../net/ip.ts";
import { absoluteUrl, ConfigError, wholeNumber, type RawVars } from "./fields.ts";
import { STRATEGY_NAMES, type StrategyName } from "./strategy-names.ts";
import { targetList } from "./targets.ts";

/** Any shared balancer strategy, or "fair": fewest requests in flight (per isolate). */
export type ProxyBalancer = StrategyName | "fair";

export interface ProxyBackend {
  id: string;
  /** Absolute URL without trailing slash; the (rewritten) request path and query are appended. */
  url: string;
  weight: number;
}

export interface RewriteRule {
  /**
   * Lowercase field name. Request side: "uri" (path + query), "host" (the Host sent
   * upstream, computed from the client's Host) or any header. Response side: "location"
   * or any header (Set-Cookie is rewritten cookie by cookie).
   */
  header: string;
  /** Compiled once. The first match in the value is replaced (String.prototype.replace). */
  match: RE2JS;
  /** $1..$99, $<name>, $& and $$ as in String.prototype.replace; checked against the groups. */
  replace: string;
}

export interface ProxyRoute {
  /** Where it was configured, e.g. "PROXY_ROUTES[0]". */
  field: string;
  /**
   * Set when the backend names a farm (`"backends": "http://farm_one/reports"`): the farm's
   * chosen member replaces the farm name, `path` is kept in front of the request path,
   * and `backends` is empty.
   */
  farm: { name: string; path: string } | null;
  /** Path prefix, matched on a segment boundary ("/app/" also takes "/app"). */
  prefix: string;
  /** Lowercase host ("www.example.com", or with ":port" to match the port too); null = any host. */
  host: string | null;
  backends: ProxyBackend[];
  balancer: ProxyBalancer;
  rewriteRequest: RewriteRule[];
  rewriteResponse: RewriteRule[];
  /** X-Sendfile / X-Accel-Redirect handling, kept for the sendfile module. */
  sendfile: { allow: boolean; root: string } | null;
  /** Raw throttle spec, parsed by the throttle module. */
  throttle: string | number | null;
  /** Bytes sent unpaced before the throttle starts (nginx limit_rate_after). */
  throttleBurstBytes: number;
  /**
   * The backend's silence that fails the attempt (and marks the backend): connecting,
   * taking the next chunk of the request body, the response headers after the whole body.
   */
  timeoutMs: number;
  /**
   * The client's silence during its upload: no new chunk of the request body for this
   * long answers 408 and blames nobody's health (nginx client_body_timeout, 60 s).
   */
  clientBodyTimeoutMs: number;
  /** Further backends tried after a failed attempt (idempotent requests without a body only). */
  retries: number;
  /** Where clients are sent (307, same path and query) when no backend answered; null = 502/504. */
  fallbackUrl: string | null;
  /** Also send an RFC 7239 Forwarded header. */
  forwarded: boolean;
  /** Proxies whose X-Forwarded-For entries are believed (the hop chain is kept through them). */
  trustedProxies: Cidr[];
}

const KNOWN_FIELDS = [
  "prefix", "host", "backends", "balancer", "rewriteRequest", "rewriteResponse", "sendfile", "throttle",
  "throttleBurstBytes", "timeoutMs", "clientBodyTimeoutMs", "retries", "fallbackUrl", "forwarded", "trustedProxies",
];

const PROXY_BALANCERS: readonly ProxyBalancer[] = [...STRATEGY_NAMES, "fair"];

/** RFC 9110 §5.6.2 token: a field name. */
const FIELD_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const HOST = /^(?:\[[0-9a-f:.]+\]|[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?)(?::\d{1,5})?$/;

/**
 * `farms`: configured farm names and member counts. A backend URL whose host is one of
 * them, without a port, names that farm.
 */
export function parseProxyRoutes(vars: RawVars, field = "PROXY_ROUTES", farms: ReadonlyMap<string, { members: readonly unknown[] }> = new Map()): ProxyRoute[] {
  const value = vars[field];
  if (value === undefined || value === null || (typeof value === "string" && value.trim() === "")) return [];
  let entries: unknown;
  if (typeof value === "string") {
    try {
      entries = JSON.parse(value);
    } catch (e) {
      throw new ConfigError(field, `is not valid JSON: ${(e as Error).message}`);
    }
  } else entries = value;
  if (!Array.isArray(entries)) throw new ConfigError(field, "must be a JSON array of routes");

  const seen = new Map<string, string>();
  const routes = entries.map((entry, i) => {
    const r = route(entry, `${field}[${i}]`, farms);
    // "/app" and "/app/" match the same requests: one route per (host, prefix).
    const key = `${r.host ?? "*"} ${r.prefix.replace(/(.)\/$/, "$1")}`;
    const other = seen.get(key);
    if (other) throw new ConfigError(`${r.field}.prefix`, `"${r.prefix}"${r.host ? ` on ${r.host}` : ""} is already used by ${other}`);
    seen.set(key, r.field);
    return r;
  });
  // Longest prefix first; for equal prefixes a route naming the host before one for any host.
  return routes.sort((a, b) => b.prefix.length - a.prefix.length || Number(b.host !== null) - Number(a.host !== null));
}

function route(entry: unknown, where: string, farms: ReadonlyMap<string, { members: readonly unknown[] }>): ProxyRoute {
  if (typeof entry !== "object" || entry === null || Array.isArray(entry)) throw new ConfigError(where, "must be an object with prefix and backends");
  const e = entry as Record<string, unknown>;
  for (const k of Object.keys(e)) {
    if (!KNOWN_FIELDS.includes(k)) throw new ConfigError(`${where}.${k}`, `unknown field (known: ${KNOWN_FIELDS.join(", ")})`);
  }
  const farm = farmReference(e["backends"], farms);
  if (farm && e["balancer"] !== undefined) throw new ConfigError(`${where}.balancer`, `a farm route balances with farm ${farm.name}'s algorithm (set FARMS.${farm.name}.algorithm)`);
  const backends = farm ? [] : backendList(e["backends"], `${where}.backends`);
  const pool = farm ? farms.get(farm.name)!.members.length : backends.length;
  return {
    field: where,
    farm,
    prefix: prefix(e["prefix"], `${where}.prefix`),
    host: host(e["host"], `${where}.host`),
    backends,
    balancer: balancer(e["balancer"], `${where}.balancer`),
    rewriteRequest: rules(e["rewriteRequest"], `${where}.rewriteRequest`, "request"),
    rewriteResponse: rules(e["rewriteResponse"], `${where}.rewriteResponse`, "response"),
    sendfile: sendfile(e["sendfile"], `${where}.sendfile`),
    throttle: throttle(e["throttle"], `${where}.throttle`),
    throttleBurstBytes: wholeNumber(e["throttleBurstBytes"], `${where}.throttleBurstBytes`, 0, 0, Number.MAX_SAFE_INTEGER),
    timeoutMs: wholeNumber(e["timeoutMs"], `${where}.timeoutMs`, 15_000, 100, 600_000),
    // nginx's client_body_timeout default: between two reads, so a slow but moving upload
    // is never cut; long enough for a mobile client's radio to come back.
    clientBodyTimeoutMs: wholeNumber(e["clientBodyTimeoutMs"], `${where}.clientBodyTimeoutMs`, 60_000, 100, 600_000),
    retries: wholeNumber(e["retries"], `${where}.retries`, pool - 1, 0, 10),
    fallbackUrl: e["fallbackUrl"] === undefined ? null : absoluteUrl({ [`${where}.fallbackUrl`]: e["fallbackUrl"] }, `${where}.fallbackUrl`),
    forwarded: flag(e["forwarded"], `${where}.forwarded`, false),
    trustedProxies: cidrs(e["trustedProxies"], `${where}.trustedProxies`),
  };
}

function prefix(v: unknown, where: string): string {
  if (typeof v !== "string" || !v.startsWith("/")) throw new ConfigError(where, 'is required and must start with "/" (e.g. "/app/")');
  if (/[?#\s\\]/.test(v) || v.includes("//")) throw new ConfigError(where, `"${v}" must be a plain path (no query, fragment, whitespace, backslash or "//")`);
  if (v.split("/").some((s) => s === "." || s === "..")) throw new ConfigError(where, `"${v}" must not contain dot segments`);
  return v;
}

function host(v: unknown, where: string): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== "string" || !HOST.test(v.toLowerCase())) throw new ConfigError(where, `must be a host name, optionally with :port (e.g. "www.example.com")`);
  return v.toLowerCase();
}

/** `"http://farm_one/path"` (alone, or as a one-entry list) when farm_one is a configured farm. */
function farmReference(v: unknown, farms: ReadonlyMap<string, unknown>): ProxyRoute["farm"] {
  const only = Array.isArray(v) && v.length === 1 ? v[0] : v;
  if (typeof only !== "string") return null;
  let url: URL;
  try {
    url = new URL(only);
  } catch {
    return null;
  }
  // Farm names are case-sensitive; URL parsing lowercases hosts, so read the name from the text.
  // A port, even the scheme's default that URL parsing drops (":80"), means a real host.
  const name = /^https?:\/\/([^/:?#]+)(?=[/?#]|$)/.exec(only)?.[1];
  if (!name || url.port || url.search || url.hash || !farms.has(name)) return null;
  return { name, path: url.pathname.replace(/\/+$/, "") };
}

function backendList(v: unknown, where: string): ProxyBackend[] {
  if (v === undefined || (Array.isArray(v) && v.length === 0)) throw new ConfigError(where, "needs at least one backend URL");
  // Same entry syntax and checks as OFFLOAD_NODES: url string or { id?, url, weight? }, http(s), no credentials.
  return targetList({ [where]: v }, where, "mirror").map((t) => ({ id: t.id, url: t.url, weight: t.weight }));
}

function balancer(v: unknown, where: string): ProxyBalancer {
  if (v === undefined) return "round-robin";
  if (typeof v !== "string" || !(PROXY_BALANCERS as readonly string[]).includes(v)) {
    throw new ConfigError(where, `"${String(v)}" is not one of ${PROXY_BALANCERS.join(", ")}`);
  }
  return v as ProxyBalancer;
}

function rules(v: unknown, where: string, side: "request" | "response"): RewriteRule[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new ConfigError(where, "must be a list of { header, match, replace }");
  return v.map((r, i) => rule(r, `${where}[${i}]`, side));
}

function rule(v: unknown, where: string, side: "request" | "response"): RewriteRule {
  if (typeof v !== "object" || v === null) throw new ConfigError(where, "must be an object { header, match, replace }");
  const r = v as Record<string, unknown>;
  const header = r["header"];
  if (typeof header !== "string" || !FIELD_NAME.test(header)) throw new ConfigError(`${where}.header`, 'must be a header name (or "uri" / "host")');
  const name = header.toLowerCase();
  if (side === "response" && name === "uri") throw new ConfigError(`${where}.header`, '"uri" only exists on the request side');
  const source = r["match"];
  if (typeof source !== "string" || source === "") throw new ConfigError(`${where}.match`, "must be a non-empty regular expression");
  let match: RE2JS;
  try {
    match = RE2JS.compile(source);
  } catch (e) {
    // RE2 refuses what it cannot run in linear time (\1, \k<n>, (?=, (?!, (?<=, (?<!).
    throw new ConfigError(`${where}.match`, `${(e as Error).message} (RE2 syntax: no backreferences or lookaround)`);
  }
  const replace = r["replace"];
  if (typeof replace !== "string") throw new ConfigError(`${where}.replace`, "must be a string ($1.. for captures)");
  const bad = badReference(match, replace);
  if (bad) throw new ConfigError(`${where}.replace`, bad);
  return { header: name, match, replace };
}

/** A `$n` / `$<name>` in `replace` that `match` does not capture would be kept literally: refuse it. */
function badReference(match: RE2JS, replace: string): string | null {
  const groups = match.groupCount();
  const names = new Set(Object.keys(match.namedGroups()));
  for (const [, ref] of replace.matchAll(/\$(\$|&|`|'|\d{1,2}|<[^>]*>)/g)) {
    if (ref === undefined || "$&`'".includes(ref)) continue;
    if (ref.startsWith("<")) {
      if (!names.has(ref.slice(1, -1))) return `refers to ${"$" + ref}, a group the match does not name`;
      continue;
    }
    // String.prototype.replace reads "$12" as group 12 if it exists, else as $1 then "2".
    if (ref.length === 2 && Number(ref) >= 1 && Number(ref) <= groups) continue;
    const n = Number(ref[0]);
    if (n === 0) return "$0 is not a group (use $& for the whole match)";
    if (n > groups) return `refers to $${n} but the match has ${groups} capture group${groups === 1 ? "" : "s"}`;
  }
  return null;
}

function sendfile(v: unknown, where: string): ProxyRoute["sendfile"] {
  if (v === undefined) return null;
  if (typeof v !== "object" || v === null) throw new ConfigError(where, "must be an object { allow, root }");
  const s = v as Record<string, unknown>;
  if (typeof s["allow"] !== "boolean") throw new ConfigError(`${where}.allow`, "must be true or false");
  if (typeof s["root"] !== "string" || s["root"] === "") throw new ConfigError(`${where}.root`, "must be a non-empty string");
  return { allow: s["allow"], root: s["root"] };
}

function throttle(v: unknown, where: string): string | number | null {
  if (v === undefined || v === null) return null;
  if (typeof v === "string" && v.trim() !== "") return v.trim();
  if (typeof v === "number" && Number.isFinite(v) && v >= 0) return v;
  throw new ConfigError(where, 'must be a rate (e.g. "V.92", "64 KiB/s") or bytes per second');
}

function flag(v: unknown, where: string, fallback: boolean): boolean {
  if (v === undefined) return fallback;
  if (typeof v !== "boolean") throw new ConfigError(where, "must be true or false");
  return v;
}

function cidrs(v: unknown, where: string): Cidr[] {
  if (v === undefined) return [];
  const list = typeof v === "string" ? v.split(",").map((s) => s.trim()).filter(Boolean) : v;
  if (!Array.isArray(list)) throw new ConfigError(where, "must be a list of CIDRs");
  return list.map((s, i) => {
    const c = typeof s === "string" ? parseCidr(s.trim()) : undefined;
    if (!c) throw new ConfigError(`${where}[${i}]`, `"${String(s)}" is not a CIDR (e.g. 10.0.0.0/8, 2001:db8::/32)`);
    return c;
  });
}
