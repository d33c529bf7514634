// Requests to the offload node under test (the main worker, running in this workerd).
import { exports } from "cloudflare:workers";
import { hex } from "../../src/store/meta";

export interface NodeRequest {
  method?: string;
  headers?: Record<string, string>;
  /** Client address as Cloudflare would report it in CF-Connecting-IP. */
  ip?: string;
  signal?: AbortSignal;
}

export function nodeFetch(path: string, init: NodeRequest = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (!headers.has("cf-connecting-ip")) headers.set("cf-connecting-ip", init.ip ?? "198.51.100.7");
  const fetcher = (exports as unknown as { default: Fetcher }).default;
  return fetcher.fetch(new Request(`http://node.test${path}`, { method: init.method ?? "GET", headers, signal: init.signal }));
}

export async function sha256Hex(body: ArrayBuffer | Uint8Array): Promise<string> {
  return hex(new Uint8Array(await crypto.subtle.digest("SHA-256", body)));
}

export interface BodyRead {
  /** False when the body errored before its end: a truncated answer. */
  complete: boolean;
  bytes: number;
  /** Hex SHA-256 of the whole body; null when it did not complete. */
  sha256: string | null;
}

/**
 * Reads a body to its end through crypto.DigestStream, never holding it in memory. The
 * digest promise is observed from the start: when the body errors, the aborted digest
 * rejects, and that must not surface as an unhandled rejection in another test.
 */
export async function readBody(res: Response): Promise<BodyRead> {
  const digest = new crypto.DigestStream("SHA-256");
  const hashed = digest.digest;
  hashed.catch(() => {});
  let bytes = 0;
  const counter = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, c) {
      bytes += chunk.byteLength;
      c.enqueue(chunk);
    },
  });
  try {
    await (res.body ?? new ReadableStream<Uint8Array>({ start: (c) => c.close() })).pipeThrough(counter).pipeTo(digest);
  } catch {
    return { complete: false, bytes, sha256: null };
  }
  return { complete: true, bytes, sha256: hex(new Uint8Array(await hashed)) };
}

/** SHA-256 and length of a body that must arrive whole (readBody; throws when it is cut short). */
export async function streamSha256(res: Response): Promise<{ sha256: string; bytes: number }> {
  const r = await readBody(res);
  if (!r.complete || r.sha256 === null) throw new Error(`body cut short after ${r.bytes} bytes`);
  return { sha256: r.sha256, bytes: r.bytes };
}

/** Wait until `check` holds, polling: for effects that land after a response (waitUntil, fills). */
export async function eventually<T>(check: () => Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 50));
  }
}
