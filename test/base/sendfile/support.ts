// Helpers for the sendfile tests: the base's real bindings, seeded R2 objects, backend answers.
import { env } from "cloudflare:workers";
import { createSendfile, type SendfileDeps, type SendfileOptions, type SendfileWarning } from "../../../src/proxy/sendfile/sendfile";

export const baseEnv = env as unknown as Env;
export const store = baseEnv.STORE;

/** A key prefix no other test uses, and the matching "r2:" root. */
export function uniquePrefix(name: string): string {
  return `sendfile-test/${Date.now().toString(36)}-${crypto.randomUUID().slice(0, 8)}/${name}`;
}

/** Deterministic bytes: byte i = (i * 7 + seed) & 255. */
export function pattern(size: number, seed = 3): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (i * 7 + seed) & 255;
  return out;
}

export async function seed(key: string, body: Uint8Array | string, opts: R2PutOptions = {}): Promise<R2Object> {
  const object = await store.put(key, body, opts);
  if (!object) throw new Error(`could not seed ${key}`);
  return object;
}

/** What the proxy would have received from the backend. */
export function backend(headers: Record<string, string>, body: BodyInit | null = "backend body that must not be sent\n", status = 200): Response {
  return new Response(body, { status, headers });
}

export interface Call {
  root: string;
  allow?: boolean;
  url?: string;
  method?: string;
  headers?: Record<string, string>;
  deps?: SendfileDeps;
}

/** The sendfile handler with the base's real env; refusals are collected instead of logged. */
export async function sendfile(call: Call, backendResponse: Response): Promise<{ res: Response; warnings: SendfileWarning[] }> {
  const warnings: SendfileWarning[] = [];
  const opts: SendfileOptions = { allow: call.allow ?? true, root: call.root };
  const req = new Request(call.url ?? "http://base.test/download/file", { method: call.method ?? "GET", headers: call.headers });
  const res = await createSendfile(opts)(req, backendResponse, baseEnv, { warn: (w) => warnings.push(w), ...call.deps });
  return { res, warnings };
}

export async function bytes(res: Response): Promise<Uint8Array> {
  return new Uint8Array(await res.arrayBuffer());
}

export async function gunzip(res: Response): Promise<Uint8Array> {
  if (!res.body) throw new Error("no body");
  return new Uint8Array(await new Response(res.body.pipeThrough(new DecompressionStream("gzip"))).arrayBuffer());
}

/** Bytes as a Latin-1 string: one character per byte, for comparing multipart bodies. */
export function latin1(b: Uint8Array): string {
  let s = "";
  for (const x of b) s += String.fromCharCode(x);
  return s;
}
