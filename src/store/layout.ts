/**
 * Where a stored version lives. A chunked version is `chunkCount` immutable R2 objects,
 * one per fixed-size slice of the file, named by version, fill id and index, so a name is
 * written once (R2 allows about one write per second per key) and a reader can compute
 * every name from the meta pointer alone. The manifest (per-chunk SHA-256) sits beside
 * them; the pointer at metaKey() is written last and makes the version visible.
 */
import type { StoredMeta } from "./meta";

export type ChunkedMeta = StoredMeta & { chunkSize: number; fill: string };

export function isChunked(m: StoredMeta): m is ChunkedMeta {
  return m.chunkSize !== undefined && m.fill !== undefined;
}

export function metaKey(key: string): string {
  return `meta${key}`;
}

/** The single object of a copy stored before chunking (read-only now). */
export function dataKey(key: string, version: string): string {
  return `data/${version}${key}`;
}

/** Version and fill id are hex, index decimal: none contains "/", so names cannot collide. */
export function chunkKey(key: string, version: string, fill: string, index: number): string {
  return `chunk/${version}-${fill}/${index}${key}`;
}

export function manifestKey(key: string, version: string, fill: string): string {
  return `manifest/${version}-${fill}${key}`;
}

/** An empty file still has one (empty) chunk, so every version has a chunk 0. */
export function chunkCount(length: number, chunkSize: number): number {
  return Math.max(1, Math.ceil(length / chunkSize));
}

/** Bytes [start, end) of chunk `index`. */
export function chunkSpan(length: number, chunkSize: number, index: number): { start: number; end: number } {
  const start = index * chunkSize;
  return { start, end: Math.min(length, start + chunkSize) };
}

/** Chunks [first, last] holding bytes [start, end] (inclusive, as ByteRange). */
export function chunksCovering(start: number, end: number, chunkSize: number): { first: number; last: number } {
  return { first: Math.floor(start / chunkSize), last: Math.floor(Math.max(start, end) / chunkSize) };
}

/**
 * Chunks [from, to) holding bytes [start, end] (inclusive) of a file, or all of them for
 * null; a window reaching past the end is cut at the file's last chunk.
 */
export function chunkWindow(length: number, chunkSize: number, window: { start: number; end: number } | null): { from: number; to: number } {
  const last = chunkCount(length, chunkSize) - 1;
  if (!window) return { from: 0, to: last + 1 };
  const span = chunksCovering(window.start, window.end, chunkSize);
  const from = Math.max(0, Math.min(span.first, last));
  return { from, to: Math.max(from, Math.min(span.last, last)) + 1 };
}

/** Every R2 key of a stored version, for deletion (R2 deletes up to 1000 keys per call). */
export function versionKeys(m: StoredMeta): string[] {
  if (!isChunked(m)) return [dataKey(m.key, m.version)];
  const keys = [manifestKey(m.key, m.version, m.fill)];
  for (let i = 0; i < chunkCount(m.length, m.chunkSize); i++) keys.push(chunkKey(m.key, m.version, m.fill, i));
  return keys;
}

/** What the manifest object holds (JSON). */
export interface Manifest {
  key: string;
  version: string;
  fill: string;
  length: number;
  chunkSize: number;
  etag: string | null;
  lastModified: string | null;
  contentType: string | null;
  /** Hex SHA-256 per chunk, by index. */
  chunks: string[];
  /** Hex SHA-256 of the whole file, "" until known. */
  sha256: string;
}
