/**
 * Sticky sessions and QoS through a signed cookie (mod_athena's secured cookie).
 *
 * A backend that wants a client kept on it (or moved to a better farm) sets, with the
 * cookie name of ATH_COOKIE (default "athena"):
 *
 *     v1~<farm>~<member>~<expires>~<keyId>~<mac64>
 *
 *   farm      the farm the client belongs to. The farm a route or query names, or one
 *             listed in that farm's "qos": the request then goes to this farm instead.
 *   member    a member id of that farm to stick to, or empty for "any member of farm".
 *   expires   unix seconds, decimal; the cookie counts while now < expires.
 *   keyId     which ATH_COOKIE_KEYS entry signed it ("id:secret,id:secret": the first
 *             signs, every listed one verifies, so keys rotate without losing sessions).
 *   mac64     base64url, unpadded (RFC 4648 §5), of HMAC-SHA256 (RFC 2104) keyed with the
 *             secret's UTF-8 bytes over "athena-sticky/v1\n" + farm + "\n" + member + "\n" + expires.
 *
 * Every byte is an RFC 6265 §4.1.1 cookie-octet, so no quoting is needed. A cookie that
 * does not parse, is signed by an unknown key, fails the MAC or has expired is ignored:
 * the request is balanced as if it had none. It is never an error for the client.
 * The Cookie header itself is read with Hono's parser (http/cookie.ts). The value is our
 * format, not Hono's signed cookie (value + "." + one secret's base64 HMAC): backends
 * mint it themselves (scripts/ath-cookie.mjs) and key ids let ATH_COOKIE_KEYS rotate.
 */
import { FARM_NAME } from "../config/farms-config";
import type { SigningKey } from "../signing/redirect-token";
import { hmacBase64url } from "../auth/hmac";
import { decodeBase64url } from "../signing/base64url";

export interface StickyClaim {
  farm: string;
  /** "" = any member of the farm (a pure QoS cookie). */
  member: string;
  expires: number;
}

export type StickyCheck = { ok: true; claim: StickyClaim } | { ok: false; reason: "missing" | "malformed" | "unknown-key" | "bad-signature" | "expired" };

const MEMBER = /^[A-Za-z0-9._:-]{0,64}$/;
const EXPIRES = /^[1-9][0-9]{0,14}$/;
const MAX_CHARS = 256;
const utf8 = new TextEncoder();

function signedText(c: StickyClaim): string {
  return `athena-sticky/v1\n${c.farm}\n${c.member}\n${c.expires}`;
}

/**
 * The backend's half of the format: the base only verifies (a farm member mints its own
 * cookie, e.g. scripts/ath-cookie.mjs). Kept beside verifySticky so one file defines both
 * halves; the tests mint with it and check it against scripts/ath-cookie.mjs.
 * @internal exported for tests (knip --production accepts it for that reason only).
 */
export async function signSticky(key: SigningKey, claim: StickyClaim): Promise<string> {
  if (!FARM_NAME.test(claim.farm) || !MEMBER.test(claim.member) || !EXPIRES.test(String(claim.expires))) {
    throw new TypeError("sticky cookie: farm, member or expiry cannot be carried in the cookie");
  }
  return `v1~${claim.farm}~${claim.member}~${claim.expires}~${key.id}~${await hmacBase64url(key.secret, signedText(claim))}`;
}

export async function verifySticky(keys: readonly SigningKey[], value: string | null, now = Date.now()): Promise<StickyCheck> {
  if (value === null || value === "") return { ok: false, reason: "missing" };
  const parts = value.length <= MAX_CHARS ? value.split("~") : [];
  if (parts.length !== 6 || parts[0] !== "v1") return { ok: false, reason: "malformed" };
  const [, farm, member, expires, keyId, mac64] = parts as [string, string, string, string, string, string];
  const mac = decodeBase64url(mac64);
  if (!FARM_NAME.test(farm) || !MEMBER.test(member) || !EXPIRES.test(expires) || !mac || mac.length !== 32) return { ok: false, reason: "malformed" };
  const key = keys.find((k) => k.id === keyId);
  if (!key) return { ok: false, reason: "unknown-key" };
  const claim = { farm, member, expires: Number(expires) };
  // crypto.subtle.verify compares in constant time.
  const verifier = await crypto.subtle.importKey("raw", utf8.encode(key.secret), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
  if (!(await crypto.subtle.verify("HMAC", verifier, mac, utf8.encode(signedText(claim))))) return { ok: false, reason: "bad-signature" };
  if (now >= claim.expires * 1000) return { ok: false, reason: "expired" };
  return { ok: true, claim };
}
