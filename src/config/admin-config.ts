/** ADMIN_TOKEN: the /_admin secret (set with `wrangler secret put ADMIN_TOKEN`); unset = admin off. */
import { ConfigError, raw, type RawVars } from "./fields.ts";

export function parseAdminToken(vars: RawVars): string | null {
  const token = raw(vars, "ADMIN_TOKEN");
  if (token === undefined) return null;
  if (token.length < 16) throw new ConfigError("ADMIN_TOKEN", "must be at least 16 characters (use random data, e.g. openssl rand -base64 32)");
  return token;
}
