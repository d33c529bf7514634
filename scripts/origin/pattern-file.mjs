/**
 * Deterministic test content and streaming file writes for the static origin.
 *
 * Byte i of a pattern file is byte (i % 4) (little-endian) of mix(seed, floor(i / 4)),
 * a murmur3-style finaliser. It is cheap enough to generate 1 GiB in well under a
 * second of CPU and anyone (tests, benches) can recompute any slice with
 * `patternBytes` without reading the file. Word indexes wrap at 2^32 (16 GiB),
 * which is far beyond anything the tests create.
 */
import { createHash } from "node:crypto";
import { open, rename, rm, utimes, stat, mkdir } from "node:fs/promises";
import { createReadStream } from "node:fs";
import { endianness } from "node:os";
import path from "node:path";

/** 4 MiB chunks: big enough to amortise syscalls, small enough to stay off the heap's radar. */
const CHUNK = 4 * 1024 * 1024;
const LITTLE_ENDIAN = endianness() === "LE";

/**
 * Turn a seed given as text (query string) or number into 32 bits.
 * Plain decimal numbers below 2^32 map to themselves so `seed=7` is easy to reason about;
 * anything else goes through FNV-1a.
 * @param {string|number} seed
 * @returns {number}
 */
export function seedToUint32(seed) {
  const text = String(seed);
  if (/^\d{1,10}$/.test(text) && Number(text) < 2 ** 32) return Number(text) >>> 0;
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** @param {number} s seed (uint32) @param {number} w word index (uint32) */
function mix(s, w) {
  let h = (Math.imul(w, 0x9e3779b1) ^ s) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Bytes [offset, offset + length) of the pattern for `seed`.
 * @param {string|number} seed
 * @param {number} offset
 * @param {number} length
 * @returns {Buffer}
 */
export function patternBytes(seed, offset, length) {
  const s = seedToUint32(seed);
  const firstWord = Math.floor(offset / 4);
  const words = Math.ceil((offset + length) / 4) - firstWord;
  const buf = Buffer.allocUnsafe(words * 4);
  if (LITTLE_ENDIAN) {
    // Fast path: fill through a Uint32Array view; on LE hosts that is the byte order we define.
    const view = new Uint32Array(buf.buffer, buf.byteOffset, words);
    for (let k = 0; k < words; k++) view[k] = mix(s, (firstWord + k) >>> 0);
  } else {
    for (let k = 0; k < words; k++) buf.writeUInt32LE(mix(s, (firstWord + k) >>> 0), k * 4);
  }
  const skip = offset - firstWord * 4;
  return buf.subarray(skip, skip + length);
}

/** Temp file next to the target so the final rename is atomic (readers never see half a file). */
let tmpCounter = 0;
function tmpPathFor(file) {
  return path.join(path.dirname(file), `.${path.basename(file)}.part-${process.pid}-${++tmpCounter}`);
}

/**
 * Write chunks from an async source to `file` atomically, hashing as we go.
 * Awaiting the previous write is the back-pressure: at most one chunk is produced ahead.
 * @param {string} file
 * @param {AsyncIterable<Uint8Array>} chunks
 * @param {{ mtime?: number }} [opts] mtime in unix seconds
 * @returns {Promise<{ size: number, sha256: string }>}
 */
export async function writeFileAtomically(file, chunks, { mtime } = {}) {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = tmpPathFor(file);
  const hash = createHash("sha256");
  let size = 0;
  const fh = await open(tmp, "w");
  // One write in flight while the next chunk is produced and hashed: disk I/O runs on
  // libuv's pool, so generation overlaps it (1 GiB takes ~2 s instead of ~3 s).
  let pending = Promise.resolve();
  try {
    for await (const chunk of chunks) {
      hash.update(chunk);
      size += chunk.length;
      await pending;
      pending = fh.write(chunk).then(() => undefined);
    }
    await pending;
  } catch (err) {
    await pending.catch(() => undefined);
    await fh.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  if (mtime !== undefined) await utimes(tmp, mtime, mtime);
  await rename(tmp, file);
  return { size, sha256: hash.digest("hex") };
}

/**
 * Create a pattern file of `size` bytes.
 * @param {string} file
 * @param {number} size
 * @param {string|number} seed
 * @param {{ mtime?: number }} [opts]
 */
export function writePatternFile(file, size, seed, opts = {}) {
  async function* generate() {
    for (let off = 0; off < size; off += CHUNK) yield patternBytes(seed, off, Math.min(CHUNK, size - off));
  }
  return writeFileAtomically(file, generate(), opts);
}

/** sha256 cache keyed by file + (size, mtime, inode) so repeated metadata queries of 1 GiB files stay cheap. */
const hashCache = new Map();

/**
 * Hex sha256 of a file, streamed.
 * @param {string} file
 * @returns {Promise<string>}
 */
export async function sha256File(file) {
  const st = await stat(file);
  const sig = `${st.size}:${st.mtimeMs}:${st.ino}`;
  const hit = hashCache.get(file);
  if (hit && hit.sig === sig) return hit.sha256;
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 })) hash.update(chunk);
  const sha256 = hash.digest("hex");
  hashCache.set(file, { sig, sha256 });
  return sha256;
}

/** Remember a hash we just computed while writing, so the next metadata query is free. */
export async function rememberSha256(file, sha256) {
  const st = await stat(file);
  hashCache.set(file, { sig: `${st.size}:${st.mtimeMs}:${st.ino}`, sha256 });
}
