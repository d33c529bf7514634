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
export function versionOf(path: string, headers: Pick<Headers, "get">): string {
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

/**
 * The version half: 64-bit FNV-1a over the version's UTF-16 code units, hex. In four 16-bit
 * limbs (lowest first) with plain number arithmetic rather than BigInt, which allocated a
 * number per character on every download answer (issue #13). The prime is 2^40 + 0x1b3:
 * h * prime = h * 0x1b3 + (h << 40), every partial sum below 2^31.
 */
export function versionPart(version: string): string {
  let h0 = 0x2325;
  let h1 = 0x8422;
  let h2 = 0x9ce4;
  let h3 = 0xcbf2; // the offset basis 0xcbf29ce484222325
  for (let i = 0; i < version.length; i++) {
    h0 ^= version.charCodeAt(i); // a code unit fits the lowest limb
    const t0 = h0 * 0x1b3;
    let t1 = h1 * 0x1b3;
    let t2 = h2 * 0x1b3 + (h0 << 8); // h << 40: limb 0 moves 40 bits up, into limbs 2 and 3
    const t3 = h3 * 0x1b3 + (h1 << 8); // limb 1 moves into limb 3 (and past 64 bits: dropped)
    t1 += t0 >>> 16;
    h0 = t0 & 0xffff;
    t2 += t1 >>> 16;
    h1 = t1 & 0xffff;
    h3 = (t3 + (t2 >>> 16)) & 0xffff;
    h2 = t2 & 0xffff;
  }
  return hex4(h3) + hex4(h2) + hex4(h1) + hex4(h0);
}

const hex4 = (limb: number) => limb.toString(16).padStart(4, "0");

/** One download's id: its client half and the version's half. */
export function downloadId(client: string, version: string): string {
  return client + versionPart(version);
}
