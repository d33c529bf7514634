// Drives the real test origin through its control API (see scripts/origin/control-api.mjs).
import { env } from "cloudflare:workers";

const control = (env as unknown as { TEST_CONTROL_URL: string }).TEST_CONTROL_URL;

export interface FileInfo {
  path: string;
  size: number;
  sha256: string;
  etag: string;
  lastModified: string;
}

export interface PathStats {
  gets: number;
  heads: number;
  rangeGets: number;
  conditional304s: number;
  bodyBytes: number;
}

async function call(method: string, path: string, body?: BodyInit): Promise<Response> {
  const res = await fetch(control + path, { method, body });
  if (!res.ok) throw new Error(`control ${method} ${path}: ${res.status} ${await res.text()}`);
  return res;
}

let counter = 0;
/** A path no other test uses, so tests never see each other's copies. */
export function uniquePath(name: string): string {
  counter += 1;
  return `/t/${Date.now().toString(36)}-${counter}-${crypto.randomUUID().slice(0, 8)}/${name}`;
}

export async function putFile(path: string, size: number, opts: { seed?: number; mtime?: number } = {}): Promise<FileInfo> {
  const q = new URLSearchParams({ size: String(size), seed: String(opts.seed ?? 1) });
  if (opts.mtime !== undefined) q.set("mtime", String(opts.mtime));
  return (await call("PUT", `/files${path}?${q}`)).json();
}

export async function putBody(path: string, body: string | Uint8Array, mtime?: number): Promise<FileInfo> {
  return (await call("PUT", `/files${path}${mtime === undefined ? "" : `?mtime=${mtime}`}`, body)).json();
}

export async function deleteFile(path: string): Promise<void> {
  await call("DELETE", `/files${path}`);
}

export async function stats(path: string): Promise<PathStats> {
  return (await call("GET", `/stats?path=${encodeURIComponent(path)}`)).json();
}

/** Counters over every path: for checking that a request reached the origin not at all. */
export async function totalStats(): Promise<PathStats> {
  return (await call("GET", "/stats")).json();
}

export async function behave(path: string, b: Record<string, string | number> | "clear"): Promise<void> {
  const q = new URLSearchParams(b === "clear" ? { path, clear: "1" } : { path, ...Object.fromEntries(Object.entries(b).map(([k, v]) => [k, String(v)])) });
  await call("POST", `/behave?${q}`);
}

export async function originDown(): Promise<void> {
  await call("POST", "/down");
}

export async function originUp(): Promise<void> {
  await call("POST", "/up");
}

export async function recentRequests(): Promise<Array<Record<string, unknown>>> {
  const s = (await (await call("GET", "/stats")).json()) as { recent?: Array<Record<string, unknown>> };
  return s.recent ?? [];
}

/** Metadata of the file now at `path` (e.g. after a behaviour replaced it mid-download). */
export async function fileInfo(path: string): Promise<FileInfo> {
  return (await call("GET", `/files${path}`)).json();
}

/**
 * The bytes (or one range of them) of a pattern file of `size` and `seed`, read from a
 * twin at another path, so the counters of the path under test see none of it (a
 * pattern file's bytes depend on its size and seed only).
 */
export async function referenceBytes(size: number, seed = 1, range?: { start: number; end: number }): Promise<Uint8Array> {
  const twin = uniquePath("reference.bin");
  await putFile(twin, size, { seed });
  const origin = (env as unknown as { ORIGIN_URL: string }).ORIGIN_URL;
  const res = await fetch(origin + twin, range ? { headers: { range: `bytes=${range.start}-${range.end}` } } : {});
  if (res.status !== (range ? 206 : 200)) throw new Error(`reference ${twin}: ${res.status}`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  await deleteFile(twin);
  return bytes;
}
