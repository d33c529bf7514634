import { encodeBase64url } from "../signing/base64url";

const utf8 = new TextEncoder();

/** base64url (RFC 4648 §5, unpadded) HMAC-SHA256 (RFC 2104) of `message` under `secret`. */
export async function hmacBase64url(secret: string, message: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", utf8.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return encodeBase64url(new Uint8Array(await crypto.subtle.sign("HMAC", key, utf8.encode(message))));
}
