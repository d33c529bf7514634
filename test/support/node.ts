// Requests to the offload node under test (the main worker, running in this workerd).
import { exports } from "cloudflare:workers";

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
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", body));
  return [...d].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Digest of a streamed body without holding it in memory. */
export async function streamSha256(res: Response): Promise<{ sha256: string; bytes: number }> {
  const digest = new crypto.DigestStream("SHA-256");
  let bytes = 0;
  const counter = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, c) {
      bytes += chunk.byteLength;
      c.enqueue(chunk);
    },
  });
  await res.body!.pipeThrough(counter).pipeTo(digest);
  const d = new Uint8Array(await digest.digest);
  return { sha256: [...d].map((b) => b.toString(16).padStart(2, "0")).join(""), bytes };
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
