/**
 * Rendezvous (highest random weight, HRW) hashing, shared by every strategy
 * that needs a path-stable order: hash itself, bounded-hash, and the
 * tie-breaks of least-loaded, geo and p2c.
 *
 * Each (target, path) pair gets an independent pseudo-random u in (0,1); the
 * target with the highest score wins. With score = -weight / ln(u) (the
 * weighted variant of Schindelhauer & Schomaker, "Weighted distributed hash
 * tables", 2005) a target wins a share of paths proportional to its weight,
 * and removing a target moves only the paths it held: everyone else's scores
 * do not change (the CARP property: caches stay warm).
 */

const TWO_POW_32 = 2 ** 32;
const TWO_POW_52 = 2 ** 52;

/**
 * 52-bit string hash: cyrb53 by bryc (public domain), two 32-bit
 * multiply-xor lanes over UTF-16 code units, cross-mixed at the end in the
 * style of MurmurHash3's fmix32. Plain numbers and Math.imul only: a
 * FNV-1a-64 over BigInt is an order of magnitude slower, and this runs for
 * every candidate on every redirect. Not cryptographic; a client that can pick
 * paths can aim at a target, which hashing does not claim to prevent.
 *
 * We keep 52 of cyrb53's 53 bits so (h + 0.5) / 2^52 is exact and strictly
 * below 1: with 53 bits the top value rounds to 1.0 and ln(1) = 0 would
 * give that pair an infinite score.
 */
export function hash52(s: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return TWO_POW_32 * (h2 & 0xfffff) + (h1 >>> 0);
}

/** Hash mapped to (0,1), never 0 or 1, so ln() is finite and negative. */
export function unitHash(s: string): number {
  return (hash52(s) + 0.5) / TWO_POW_52;
}

/**
 * Sort key (ascending = preferred) placing `targetId` in the HRW order of
 * `path`. The separator keeps ("a", "b/x") and ("ab", "/x") apart: ids are
 * configuration names and cannot contain a newline in any sane config, and
 * paths reaching here are canonical (no control characters).
 * The second element orders zero-weight targets (score 0) among themselves
 * by the same hash, so they too are path-stable and spread.
 */
export function hrwKey(targetId: string, path: string, weight: number): [number, number] {
  const u = unitHash(`${targetId}\n${path}`);
  const score = weight > 0 ? -weight / Math.log(u) : 0;
  return [-score, -u];
}
