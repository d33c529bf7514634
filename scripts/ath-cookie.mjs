#!/usr/bin/env node
/**
 * Mints a sticky-session cookie value as a farm member's backend would (format in
 * src/farms/sticky-cookie.ts and README "Farms"): an independent implementation with
 * node:crypto, so it doubles as a reference for backends written in other languages.
 *
 *   ATH_COOKIE_KEYS="c1:<secret>" node scripts/ath-cookie.mjs farm_one web1 [ttl-seconds]
 *
 * Prints the value; send it as `Set-Cookie: athena=<value>; Path=/; HttpOnly; Secure`.
 */
import { createHmac } from "node:crypto";
import { fileURLToPath } from "node:url";

/** @param {{ id: string, secret: string }} key @param {string} farm @param {string} member @param {number} expires unix seconds */
export function mintStickyCookie(key, farm, member, expires) {
  const mac = createHmac("sha256", Buffer.from(key.secret, "utf8")).update(`athena-sticky/v1\n${farm}\n${member}\n${expires}`, "utf8").digest("base64url");
  return `v1~${farm}~${member}~${expires}~${key.id}~${mac}`;
}

/** The signing key: the first entry of an ATH_COOKIE_KEYS value ("id:secret,id:secret"). */
export function firstKey(keys) {
  const first = (keys ?? "").split(",")[0]?.trim() ?? "";
  const colon = first.indexOf(":");
  if (colon <= 0) throw new Error('ATH_COOKIE_KEYS must be "id:secret[,id:secret...]"');
  return { id: first.slice(0, colon), secret: first.slice(colon + 1) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [farm, member = "", ttl = "3600"] = process.argv.slice(2);
  if (!farm || !/^\d+$/.test(ttl)) {
    console.error("usage: ATH_COOKIE_KEYS=id:secret node scripts/ath-cookie.mjs <farm> [member] [ttl-seconds]");
    process.exit(2);
  }
  try {
    console.log(mintStickyCookie(firstKey(process.env.ATH_COOKIE_KEYS), farm, member, Math.floor(Date.now() / 1000) + Number(ttl)));
  } catch (e) {
    console.error(e.message);
    process.exit(2);
  }
}
