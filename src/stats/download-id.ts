/**
 * The id of one download (issue #15 part 1): a client and an object version, so an
 * accelerator's many connections and ranges count once. 128 bits as 32 hex digits:
 *
 *   client part (64 bits)   HMAC-SHA-256 (RFC 2104) of the client key, keyed with a random
 *                           salt that the OffloadStats object generates once and keeps
 *                           (`downloadSalt()`). Every writer of the deployment hashes with
 *                           the same salt, so the node and the base agree on a client;
 *                           without the salt a stored id cannot be tested against guessed
 *                           addresses (the IPv4 space is small enough to try whole, hence no
 *                           plain hash). Computed once per client per isolate: a client
 *                           fetching many files pays one HMAC.
 *   version part (64 bits)  a plain 64-bit FNV-1a of the version (path and validators are
 *                           public: nothing to hide, only to tell apart), so a new file of a
 *                           known client costs no cryptography.
 *
 * 64 bits each keep collisions negligible among one hour's downloads (birthday bound:
 * about 1 in 10^5 for ten million clients of one version).
 */

/** Hex characters of each half of an id. */
const HALF_HEX = 16;

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

/** The client half: HMAC(salt, client key), hex, cut to 64 bits. */
export async function clientPart(key: CryptoKey, client: string): Promise<string> {
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(client)));
  let hex = "";
  for (const b of mac.subarray(0, HALF_HEX / 2)) hex += b.toString(16).padStart(2, "0");
  return hex;
}

/** A client half for a client without an address: random, so each of its answers is its own download. */
export function randomClientPart(): string {
  return crypto.randomUUID().replaceAll("-", "").slice(0, HALF_HEX);
}

const FNV_PRIME = 0x100000001b3n;
const FNV_OFFSET = 0xcbf29ce484222325n;
const MASK_64 = (1n << 64n) - 1n;

/** The version half: 64-bit FNV-1a over the version's UTF-16 code units, hex. */
export function versionPart(version: string): string {
  let h = FNV_OFFSET;
  for (let i = 0; i < version.length; i++) h = ((h ^ BigInt(version.charCodeAt(i))) * FNV_PRIME) & MASK_64;
  return h.toString(16).padStart(HALF_HEX, "0");
}

/** One download's id: its client half and the version's half. */
export function downloadId(client: string, version: string): string {
  return client + versionPart(version);
}
