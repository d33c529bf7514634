/**
 * Signed redirects. The base adds a token to the Location it redirects a client to, so
 * an offload node can refuse requests that did not come through the base.
 *
 * Token format, version 2 (ASCII only; needs no escaping in a query parameter):
 *
 *     <keyId>.<expires>.<client64>.<scope>.<mac64>
 *
 *   keyId     [A-Za-z0-9_-]{1,16}: which key of the rotation set signed it.
 *   expires   unix seconds, plain decimal (no sign, no leading zero, at most 15 digits).
 *             The token is good while now < expires.
 *   client64  base64url, unpadded (RFC 4648 §5), of the UTF-8 client the token is bound
 *             to, e.g. "2001:db8:1:2::/64" or "192.0.2.1" (the key of
 *             limits/client-key.ts `clientOf`); empty when the token is not bound.
 *   scope     "p": the MAC covers the path only (the nodes do not key on the query);
 *             "q": the MAC covers the path and the query (CACHE_KEY_QUERY=true).
 *   mac64     base64url, unpadded, of the 32-byte HMAC-SHA256 (RFC 2104, RFC 6234) keyed
 *             with the secret's UTF-8 bytes, over the UTF-8 of
 *                 "offload-token/v2\n" + scope + "\n" + path + "\n" + query + "\n"
 *                 + expires + "\n" + client
 *             where path is the canonical request path (http/path.ts
 *             `canonicalRequestPath`, which the node re-derives), query is the canonical
 *             query without any offload_token member (http/query.ts `canonicalQuery`,
 *             signing/token-query.ts; "" when scope is "p") and client is the decoded
 *             client ("" when unbound). No field may hold a control character, so the
 *             "\n" separators cannot be forged from inside a field.
 *
 *   Example: k2.1767225600.MTkyLjAuMi4x.q.<43 characters>
 *
 * Version 1 (four fields, context "offload-token/v1", no scope, query never signed) is
 * refused as "malformed": its context differs, so no v1 MAC can pass as a v2 one, and a
 * v1 token names itself by its field count. Base and nodes must run the same version
 * (a token lives at most SIGNED_URL_TTL, so a joint upgrade breaks links for that long).
 *
 * Verification parses strictly (anything else is "malformed"), picks the key by id
 * ("unknown-key"), checks the MAC with crypto.subtle.verify, which compares in constant
 * time ("bad-signature"), and only then trusts the claims: scope ("wrong-scope": a node
 * that keys on the query accepts only "q"), expiry ("expired", and "too-long" when it is
 * further ahead than the verifier accepts), then client ("unbound" when the verifier
 * requires a bound token, "wrong-client"). Key rotation: sign with the first configured
 * key, accept any listed.
 *
 * No module state: each call imports the one HMAC key it needs.
 */

import { decodeBase64url, encodeBase64url } from "./base64url";

export interface SigningKey {
  /** [A-Za-z0-9_-]{1,16}; appears in every token. */
  id: string;
  /** At least 16 bytes of UTF-8; use random data, e.g. `openssl rand -base64 32`. */
  secret: string;
}

export interface TokenClaims {
  /** Canonical request path. */
  path: string;
  /** Unix seconds; the token is good while now < expires. */
  expires: number;
  /** Client the token is bound to (e.g. "2001:db8:1:2::/64" or "192.0.2.1"). */
  client?: string;
  /**
   * The canonical, token-free query the node will key on (scope "q", "" for none);
   * absent when the nodes do not key on the query (scope "p").
   */
  query?: string;
}

/** What the verifier knows about the request, and what it insists on. */
export interface TokenExpectation {
  /** Canonical request path. */
  path: string;
  /** Unix seconds. */
  now: number;
  /** The requesting client, in the form tokens bind to. */
  client?: string;
  /** The request's canonical query without token members (default ""). */
  query?: string;
  /** The verifier keys on the query: only a token of scope "q" will do (default false). */
  queryKeyed?: boolean;
  /** Refuse a token that expires more than this many seconds after `now` (default: any). */
  maxLifetime?: number;
  /** Refuse a token that is not bound to a client (default false). */
  requireClient?: boolean;
}

export type TokenFailure =
  | "missing"
  | "malformed"
  | "unknown-key"
  | "expired"
  | "bad-signature"
  | "wrong-scope"
  | "too-long"
  | "unbound"
  | "wrong-client";

export type TokenCheck =
  | { ok: true; keyId: string }
  | { ok: false; reason: TokenFailure; detail: string };

/** Query parameter that carries the token. */
export const TOKEN_PARAM = "offload_token";

const CONTEXT = "offload-token/v2";
const KEY_ID = /^[A-Za-z0-9_-]{1,16}$/;
const EXPIRES = /^(0|[1-9][0-9]{0,14})$/;
const MIN_SECRET_BYTES = 16;
const MAX_CLIENT_BYTES = 96;
const MAC_CHARS = 43; // 32 bytes, unpadded base64url
/** Longest possible token: 16 + 15 + 128 + 1 + 43 characters and four dots. */
const MAX_TOKEN_CHARS = 16 + 1 + 15 + 1 + 128 + 1 + 1 + 1 + MAC_CHARS;
type Scope = "p" | "q";
// C0, DEL and C1 controls: refused in every signed field (see the format above).
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

const utf8 = new TextEncoder();

function fail(reason: TokenFailure, detail: string): TokenCheck {
  return { ok: false, reason, detail };
}

function usableKey(key: SigningKey): boolean {
  return KEY_ID.test(key.id) && utf8.encode(key.secret).length >= MIN_SECRET_BYTES;
}

function message(scope: Scope, path: string, query: string, expires: string, client: string): Uint8Array {
  return utf8.encode(`${CONTEXT}\n${scope}\n${path}\n${scope === "q" ? query : ""}\n${expires}\n${client}`);
}

function hmacKey(secret: string, usage: "sign" | "verify"): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", utf8.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    usage,
  ]);
}

/**
 * The HMAC key of `key`, for callers that sign many tokens with one key: pass it to
 * signToken so the secret is imported once (per isolate) instead of per request.
 */
export function importSigningKey(key: SigningKey): Promise<CryptoKey> {
  return hmacKey(key.secret, "sign");
}

/**
 * Signs `claims` with `key` (`imported`: its importSigningKey, when the caller keeps it). Rejects with a TypeError on arguments no token can carry (a
 * bad key, a path or client with control characters, an expiry that is not a
 * non-negative integer): those are configuration or programming errors, not request
 * input, and parseSigningKeys has already refused bad keys.
 */
export async function signToken(key: SigningKey, claims: TokenClaims, imported?: Promise<CryptoKey>): Promise<string> {
  if (!usableKey(key)) throw new TypeError(`signing key "${KEY_ID.test(key.id) ? key.id : "?"}" is not usable`);
  const expires = String(claims.expires);
  if (!Number.isSafeInteger(claims.expires) || !EXPIRES.test(expires)) {
    throw new TypeError("expires must be a non-negative integer of at most 15 digits");
  }
  if (claims.path === "" || CONTROL.test(claims.path)) throw new TypeError("path is empty or has a control character");
  if (claims.query !== undefined && CONTROL.test(claims.query)) throw new TypeError("query has a control character");
  const scope: Scope = claims.query === undefined ? "p" : "q";
  const client = claims.client ?? "";
  const clientBytes = utf8.encode(client);
  if (CONTROL.test(client) || clientBytes.length > MAX_CLIENT_BYTES) {
    throw new TypeError(`client has a control character or is longer than ${MAX_CLIENT_BYTES} bytes`);
  }
  const mac = await crypto.subtle.sign("HMAC", await (imported ?? hmacKey(key.secret, "sign")), message(scope, claims.path, claims.query ?? "", expires, client));
  return `${key.id}.${expires}.${encodeBase64url(clientBytes)}.${scope}.${encodeBase64url(new Uint8Array(mac))}`;
}

type Parsed = { keyId: string; expires: string; client: string; scope: Scope; mac: Uint8Array };

function parse(token: string): Parsed | string {
  if (token.length > MAX_TOKEN_CHARS) return `longer than ${MAX_TOKEN_CHARS} characters`;
  const parts = token.split(".");
  if (parts.length === 4) return "a version 1 token (4 fields): base and nodes must run the same token version";
  if (parts.length !== 5) return "expected 5 dot-separated fields";
  const [keyId = "", expires = "", client64 = "", scope = "", mac64 = ""] = parts;
  if (scope !== "p" && scope !== "q") return "bad scope field";
  if (!KEY_ID.test(keyId)) return "bad key id";
  if (!EXPIRES.test(expires)) return "bad expiry";
  const clientBytes = decodeBase64url(client64);
  if (!clientBytes || clientBytes.length > MAX_CLIENT_BYTES) return "bad client field";
  let client: string;
  try {
    client = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(clientBytes);
  } catch {
    return "client field is not UTF-8";
  }
  if (CONTROL.test(client)) return "client field has a control character";
  const mac = mac64.length === MAC_CHARS ? decodeBase64url(mac64) : undefined;
  if (!mac) return "bad signature field";
  return { keyId, expires, client, scope, mac };
}

/**
 * Checks `token` for a request of `expect.path` from `expect.client` at `expect.now` (unix
 * seconds). Never throws. `keys` is the accepted set; keys that could not sign (bad id,
 * short secret) are ignored.
 */
export async function verifyToken(
  keys: readonly SigningKey[],
  token: string | null,
  expect: TokenExpectation,
): Promise<TokenCheck> {
  if (token === null || token === "") return fail("missing", `no ${TOKEN_PARAM}`);
  const parsed = parse(token);
  if (typeof parsed === "string") return fail("malformed", parsed);
  const query = expect.query ?? "";
  if (expect.path === "" || CONTROL.test(expect.path) || CONTROL.test(query)) {
    return fail("malformed", "request path is empty or it or the query has a control character");
  }
  const key = keys.find((k) => k.id === parsed.keyId);
  if (!key || !usableKey(key)) return fail("unknown-key", `key id "${parsed.keyId}" is not accepted`);
  let valid: boolean;
  try {
    const cryptoKey = await hmacKey(key.secret, "verify");
    // crypto.subtle.verify compares the MAC in constant time.
    const signed = message(parsed.scope, expect.path, query, parsed.expires, parsed.client);
    valid = await crypto.subtle.verify("HMAC", cryptoKey, parsed.mac, signed);
  } catch (e) {
    return fail("bad-signature", `verification failed: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!valid) {
    return fail("bad-signature", `signature does not match path, ${parsed.scope === "q" ? "query, " : ""}expiry and client`);
  }
  // Only now are the claims trustworthy.
  if (expect.queryKeyed && parsed.scope !== "q") {
    return fail("wrong-scope", "token does not sign the query, which this node keys on (set CACHE_KEY_QUERY=true at the base too)");
  }
  const expires = Number(parsed.expires);
  if (!Number.isFinite(expect.now)) return fail("expired", "no valid current time to compare with");
  if (expect.now >= expires) return fail("expired", `expired at ${expires}, now ${Math.floor(expect.now)}`);
  if (expect.maxLifetime !== undefined && expires - expect.now > expect.maxLifetime) {
    return fail("too-long", `expires ${Math.ceil(expires - expect.now)} s from now, more than the ${expect.maxLifetime} s accepted`);
  }
  if (parsed.client === "" && expect.requireClient) return fail("unbound", "token is not bound to a client");
  if (parsed.client !== "" && expect.client !== parsed.client) {
    return fail("wrong-client", `token is bound to another client than ${expect.client ?? "(unknown)"}`);
  }
  return { ok: true, keyId: parsed.keyId };
}

/**
 * Parses "id1:secret1,id2:secret2" (whitespace around entries, ids and secrets ignored;
 * a secret may contain ":" but not ","). The first key signs; all verify. Returns the
 * keys accepted and one error per rejected entry, naming it by position and, when
 * well-formed, by id, and never quoting the secret. An empty string is no keys, no
 * errors: whether signing is required is the caller's decision.
 */
export function parseSigningKeys(raw: string): { keys: SigningKey[]; errors: string[] } {
  const keys: SigningKey[] = [];
  const errors: string[] = [];
  if (raw.trim() === "") return { keys, errors };
  raw.split(",").forEach((entry, i) => {
    const at = `signing key entry ${i + 1}`;
    const text = entry.trim();
    if (text === "") return void errors.push(`${at}: empty`);
    const colon = text.indexOf(":");
    // Not quoting the text: an entry without ":" may be a bare secret.
    if (colon < 0) return void errors.push(`${at}: expected "<id>:<secret>"`);
    const id = text.slice(0, colon).trim();
    const secret = text.slice(colon + 1).trim();
    if (!KEY_ID.test(id)) return void errors.push(`${at}: key id must match [A-Za-z0-9_-]{1,16}`);
    const named = `${at} (key "${id}")`;
    if (keys.some((k) => k.id === id)) return void errors.push(`${named}: duplicate key id`);
    if (CONTROL.test(secret)) return void errors.push(`${named}: secret has a control character`);
    if (utf8.encode(secret).length < MIN_SECRET_BYTES) {
      return void errors.push(`${named}: secret must be at least ${MIN_SECRET_BYTES} bytes`);
    }
    keys.push({ id, secret });
  });
  return { keys, errors };
}
