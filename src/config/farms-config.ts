/**
 * FARMS and the ATH_* vars: mod_athena's farms of servers. FARMS is a JSON object, one
 * entry per farm (a string var, or an object in wrangler.toml):
 *
 *   { "farm_one": {
 *       "algorithm": "least-loaded", "loadMetric": "conns",
 *       "members": ["http://10.0.0.1:8080", { "id": "web2", "url": "http://10.0.0.2:8080", "weight": 2 }],
 *       "fallbackUrl": "https://sorry.example.com",
 *       "statsTtlSeconds": 60,
 *       "health": { "method": "GET", "path": "/health", "expect": [200], "intervalSeconds": 60,
 *                   "timeoutMs": 2000, "rise": 2, "fall": 3 },
 *       "qos": ["farm_gold"] } }
 *
 * Membership lives here (deployed config); the FarmRegistry Durable Object keeps what
 * changes at run time: the operator's state per member, health and pushed stats.
 * Erasable TypeScript with .ts imports only (plain Node validates it in the local stack).
 */
import { absoluteUrl, ConfigError, raw, wholeNumber, type RawVars } from "./fields.ts";
import { isStrategyName, STRATEGY_NAMES, type StrategyName } from "./strategy-names.ts";
import { targetList } from "./targets.ts";

/** Farm names appear in URLs (`http://farm_one/`), query mode and cookies. */
export const FARM_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

export interface FarmMember {
  id: string;
  /** Absolute URL without trailing slash. */
  url: string;
  weight: number;
}

export interface FarmHealthCheck {
  method: "GET" | "HEAD";
  path: string;
  /** Statuses that count as up. */
  expect: number[];
  intervalSeconds: number;
  timeoutMs: number;
  rise: number;
  fall: number;
}

export interface Farm {
  name: string;
  algorithm: StrategyName;
  /** Which pushed stat the load-aware algorithms read. */
  loadMetric: "load" | "conns";
  members: FarmMember[];
  /** Where clients go when every member is disabled or down; null = an error answer. */
  fallbackUrl: string | null;
  /** Pushed stats older than this are expired: shown as such and not balanced on. */
  statsTtlSeconds: number;
  health: FarmHealthCheck | null;
  /** Other farms a valid sticky cookie may move a client to (QoS). */
  qos: string[];
}

export interface FarmsConfig {
  farms: Map<string, Farm>;
  /** Secret for /ath/update and /ath/balance; null = those endpoints answer 503. */
  athToken: string | null;
  cookieName: string;
  /** Raw "id:secret,id:secret" (first signs, all verify), parsed by the signing module. */
  cookieKeys: string;
}

export const FARMS_VAR_NAMES = ["FARMS", "ATH_TOKEN", "ATH_COOKIE", "ATH_COOKIE_KEYS"] as const;

const FARM_FIELDS = ["algorithm", "loadMetric", "members", "fallbackUrl", "statsTtlSeconds", "health", "qos"];
const HEALTH_FIELDS = ["method", "path", "expect", "intervalSeconds", "timeoutMs", "rise", "fall"];
const MEMBER_FIELDS = ["id", "url", "weight"];

export function parseFarmsConfig(vars: RawVars): FarmsConfig {
  const cookieName = raw(vars, "ATH_COOKIE") ?? "athena";
  // RFC 6265 §4.1.1: a cookie-name is an RFC 2616 token.
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,64}$/.test(cookieName)) throw new ConfigError("ATH_COOKIE", `"${cookieName}" is not a cookie name (token characters)`);
  const athToken = raw(vars, "ATH_TOKEN") ?? null;
  if (athToken !== null && athToken.length < 16) throw new ConfigError("ATH_TOKEN", "must be at least 16 characters (use random data)");
  return {
    farms: farms(vars["FARMS"]),
    athToken,
    cookieName,
    cookieKeys: raw(vars, "ATH_COOKIE_KEYS") ?? "",
  };
}

function farms(value: unknown): Map<string, Farm> {
  const out = new Map<string, Farm>();
  if (value === undefined || value === null || (typeof value === "string" && value.trim() === "")) return out;
  let parsed = value;
  if (typeof value === "string") {
    try {
      parsed = JSON.parse(value);
    } catch (e) {
      throw new ConfigError("FARMS", `is not valid JSON: ${(e as Error).message}`);
    }
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new ConfigError("FARMS", 'must be a JSON object: { "farm_one": { "members": [...] } }');
  for (const [name, entry] of Object.entries(parsed)) {
    if (!FARM_NAME.test(name)) throw new ConfigError(`FARMS.${name}`, "a farm name must be a letter then up to 63 of A-Z a-z 0-9 _ -");
    out.set(name, farm(name, entry, `FARMS.${name}`));
  }
  for (const f of out.values()) {
    f.qos.forEach((q, i) => {
      if (!out.has(q)) throw new ConfigError(`FARMS.${f.name}.qos[${i}]`, `"${q}" is not a farm`);
    });
  }
  return out;
}

function farm(name: string, entry: unknown, where: string): Farm {
  const e = object(entry, where, FARM_FIELDS);
  // targetList also reads OFFLOAD_NODES' fields (prefixes, location, healthPath), which a
  // farm would silently ignore: a member's "healthPath" or a misspelt "wieght" is refused.
  if (Array.isArray(e["members"])) {
    e["members"].forEach((m, i) => {
      if (typeof m === "object" && m !== null && !Array.isArray(m)) object(m, `${where}.members[${i}]`, MEMBER_FIELDS);
    });
  }
  const members = targetList({ [`${where}.members`]: e["members"] }, `${where}.members`, "mirror").map((t) => ({ id: t.id, url: t.url, weight: t.weight }));
  if (members.length === 0) throw new ConfigError(`${where}.members`, "needs at least one member URL");
  const algorithm = e["algorithm"] ?? "round-robin";
  if (!isStrategyName(algorithm)) {
    throw new ConfigError(`${where}.algorithm`, `"${String(algorithm)}" is not one of ${STRATEGY_NAMES.join(", ")}`);
  }
  const loadMetric = e["loadMetric"] ?? "load";
  if (loadMetric !== "load" && loadMetric !== "conns") throw new ConfigError(`${where}.loadMetric`, 'must be "load" or "conns"');
  const qos = e["qos"] ?? [];
  if (!Array.isArray(qos) || qos.some((q) => typeof q !== "string")) throw new ConfigError(`${where}.qos`, "must be a list of farm names");
  return {
    name,
    algorithm,
    loadMetric,
    members,
    fallbackUrl: e["fallbackUrl"] === undefined ? null : absoluteUrl({ [`${where}.fallbackUrl`]: e["fallbackUrl"] }, `${where}.fallbackUrl`),
    statsTtlSeconds: wholeNumber(e["statsTtlSeconds"], `${where}.statsTtlSeconds`, 60, 1, 86_400),
    health: e["health"] === undefined ? null : health(e["health"], `${where}.health`),
    qos: qos as string[],
  };
}

function health(v: unknown, where: string): FarmHealthCheck {
  const h = object(v, where, HEALTH_FIELDS);
  const method = h["method"] ?? "GET";
  if (method !== "GET" && method !== "HEAD") throw new ConfigError(`${where}.method`, 'must be "GET" or "HEAD"');
  const path = h["path"] ?? "/";
  if (typeof path !== "string" || !path.startsWith("/") || /[\s#]/.test(path)) throw new ConfigError(`${where}.path`, 'must be a path starting with "/"');
  const expectRaw = h["expect"] ?? [200];
  const expect = Array.isArray(expectRaw) ? expectRaw : [expectRaw];
  if (expect.length === 0 || expect.some((s) => !Number.isInteger(s) || (s as number) < 100 || (s as number) > 599)) {
    throw new ConfigError(`${where}.expect`, "must be a status or a list of statuses (100-599)");
  }
  return {
    method,
    path,
    expect: expect as number[],
    intervalSeconds: wholeNumber(h["intervalSeconds"], `${where}.intervalSeconds`, 60, 1, 86_400),
    timeoutMs: wholeNumber(h["timeoutMs"], `${where}.timeoutMs`, 3000, 100, 60_000),
    rise: wholeNumber(h["rise"], `${where}.rise`, 2, 1, 100),
    fall: wholeNumber(h["fall"], `${where}.fall`, 3, 1, 100),
  };
}

function object(v: unknown, where: string, known: string[]): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new ConfigError(where, "must be an object");
  for (const k of Object.keys(v)) {
    if (!known.includes(k)) throw new ConfigError(`${where}.${k}`, `unknown field (known: ${known.join(", ")})`);
  }
  return v as Record<string, unknown>;
}
