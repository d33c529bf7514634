/**
 * Field parsers shared by every config: each takes the raw vars and the field name, and
 * throws a ConfigError naming that field. Erasable TypeScript only, imports with .ts
 * extensions: the local stack imports these from plain Node to validate before starting.
 */
import { parseCidr, type Cidr } from "../net/ip.ts";

export type RawVars = Record<string, unknown>;

export class ConfigError extends Error {
  readonly field: string;
  constructor(field: string, reason: string) {
    super(`invalid config ${field}: ${reason}`);
    this.name = "ConfigError";
    this.field = field;
  }
}

export function raw(vars: RawVars, field: string): string | undefined {
  const v = vars[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (typeof v !== "string") throw new ConfigError(field, "must be a string");
  const t = v.trim();
  return t === "" ? undefined : t;
}

export function absoluteUrl(vars: RawVars, field: string): string {
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

export function token(vars: RawVars, field: string, fallback: string): string {
  const v = raw(vars, field) ?? fallback;
  // An RFC 9110 token, so it can stand unquoted in Cache-Status.
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/.test(v)) {
    throw new ConfigError(field, `"${v}" must be 1-64 token characters (letters, digits, -._~)`);
  }
  return v;
}

export function integer(vars: RawVars, field: string, fallback: number, min: number, max: number): number {
  const v = raw(vars, field);
  if (v === undefined) return fallback;
  if (!/^-?\d+$/.test(v)) throw new ConfigError(field, `"${v}" is not a whole number`);
  const n = Number(v);
  if (n < min || n > max) throw new ConfigError(field, `${n} is outside ${min}..${max}`);
  return n;
}

export function boolean(vars: RawVars, field: string, fallback: boolean): boolean {
  const v = raw(vars, field);
  if (v === undefined) return fallback;
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  if (/^(0|false|no|off)$/i.test(v)) return false;
  throw new ConfigError(field, `"${v}" is not a boolean (true/false)`);
}

export function cidrList(vars: RawVars, field: string): Cidr[] {
  const v = raw(vars, field);
  if (v === undefined) return [];
  return v.split(",").map((s) => s.trim()).filter(Boolean).map((s) => {
    const c = parseCidr(s);
    if (!c) throw new ConfigError(field, `"${s}" is not a CIDR (e.g. 192.0.2.0/24, 2001:db8::/32)`);
    return c;
  });
}


/** A whole number inside a JSON config object (not a string var); `fallback` is clamped into range. */
export function wholeNumber(v: unknown, where: string, fallback: number, min: number, max: number): number {
  if (v === undefined) return Math.max(min, Math.min(max, fallback));
  if (typeof v !== "number" || !Number.isInteger(v)) throw new ConfigError(where, "must be a whole number");
  if (v < min || v > max) throw new ConfigError(where, `${v} is outside ${min}..${max}`);
  return v;
}
