/**
 * The id of one download (issue #15 part 1): a client and an object version, so an
 * accelerator's many connections and ranges count once. Only a keyed hash leaves the
 * writer: HMAC-SHA-256 (RFC 2104) keyed with a random salt that the OffloadStats object
 * generates once and keeps in its storage (`downloadSalt()`), truncated to 128 bits.
 * Every writer of the deployment hashes with the same salt, so the node and the base agree
 * on a client; without the salt a stored id cannot be tested against guessed addresses
 * (the IPv4 space is small enough to try whole, hence no plain hash).
 */

/** Hex characters of an id: 128 bits, plenty against collisions among a window's downloads. */
const DOWNLOAD_ID_HEX = 32;

/**
 * The version a download is of (RFC 9110 §8.8): the strong or weak ETag, else
 * Last-Modified with the full length (Content-Range's complete-length of a 206, else
 * Content-Length), else the path alone. Ranges of one version share it.
 */
export function versionOf(path: string, headers: Headers): string {
  const etag = headers.get("etag");
  if (etag) return `${path}\n${etag}`;
  const range = /\/(\d+)\s*$/.exec(headers.get("content-range") ?? "");
  const length = range?.[1] ?? headers.get("content-length") ?? "";
  return `${path}\n${headers.get("last-modified") ?? ""}\n${length}`;
}

export function importSalt(salt: ArrayBuffer): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", salt, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
}

/** HMAC(salt, `${client key}\n${versionOf(...)}`), hex, cut to DOWNLOAD_ID_HEX characters. */
export async function downloadId(key: CryptoKey, clientAndVersion: string): Promise<string> {
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(clientAndVersion)));
  let hex = "";
  for (const b of mac.subarray(0, DOWNLOAD_ID_HEX / 2)) hex += b.toString(16).padStart(2, "0");
  return hex;
}
