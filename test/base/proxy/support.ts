// The reverse proxy under test, called directly (proxyRequest), against the real echo
// backends of test/support/proxy-backends.mjs (ports and control URL are bindings).
import { env } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { parseProxyRoutes, type ProxyRoute } from "../../../src/config/proxy-config";
import { proxyRequest, type ProxyOptions } from "../../../src/proxy/proxy";

const testEnv = env as unknown as Env & { TEST_BACKEND_PORTS: string; TEST_BACKEND_CONTROL_URL: string };
export const backendPorts = testEnv.TEST_BACKEND_PORTS.split(",").map(Number) as [number, number, number];
export const backendUrl = (i: 0 | 1 | 2) => `http://127.0.0.1:${backendPorts[i]}`;
export const PUBLIC = "https://www.example.com";

/** What an echo backend saw. */
export interface Echo {
  backend: "b0" | "b1" | "b2";
  method: string;
  url: string;
  path: string;
  query: string;
  headers: Record<string, string>;
  bodyLength: number;
  bodySha256: string;
  body: string | null;
}

/** One route, parsed exactly as PROXY_ROUTES would be. */
export function routeOf(spec: Record<string, unknown>): ProxyRoute {
  return parseProxyRoutes({ PROXY_ROUTES: JSON.stringify([spec]) })[0]!;
}

/** A fresh env object: the proxy's per-isolate state (marks, in-flight, rotation) starts empty. */
export function freshEnv(): Env {
  return { ...(env as object) } as Env;
}

export interface Send {
  method?: string;
  headers?: Record<string, string>;
  ip?: string | null;
  body?: BodyInit | null;
  env?: object;
  publicOrigin?: string;
  options?: ProxyOptions;
}

export function clientRequest(path: string, init: Send = {}): Request {
  const headers = new Headers(init.headers);
  if (init.ip !== null && !headers.has("cf-connecting-ip")) headers.set("cf-connecting-ip", init.ip ?? "198.51.100.7");
  return new Request(`${init.publicOrigin ?? PUBLIC}${path}`, { method: init.method ?? "GET", headers, body: init.body ?? null, redirect: "manual" });
}

/** proxyRequest as the base would call it; waits for its background work (reports) too. */
export async function send(route: ProxyRoute, path: string, init: Send = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await proxyRequest(route, clientRequest(path, init), ctx, init.env ?? env, init.publicOrigin ?? PUBLIC, init.options);
  const body = await res.arrayBuffer();
  await waitOnExecutionContext(ctx);
  return new Response(body, res);
}

export async function echo(res: Response): Promise<Echo> {
  if (res.status !== 200) throw new Error(`expected 200 from a backend, got ${res.status}: ${await res.text()}`);
  return (await res.json()) as Echo;
}

type Action = "set" | "down" | "up" | "stats" | "reset";
export async function backend(i: 0 | 1 | 2, action: Action, params: Record<string, string | number> = {}): Promise<{ hits: number; up: boolean }> {
  const q = new URLSearchParams({ port: String(backendPorts[i]), ...Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)])) });
  const res = await fetch(`${testEnv.TEST_BACKEND_CONTROL_URL}/${action}?${q}`);
  if (!res.ok) throw new Error(`backend control ${action}: ${res.status}`);
  return res.json();
}

export async function resetBackends(): Promise<void> {
  for (const i of [0, 1, 2] as const) await backend(i, "reset");
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A client's upload body: `first` bytes at once, then nothing ever again (the connection stays open). */
export function stalledBody(first: number): ReadableStream<Uint8Array> {
  let sent = false;
  return new ReadableStream<Uint8Array>({
    pull(c) {
      if (sent) return new Promise<void>(() => {});
      sent = true;
      c.enqueue(new Uint8Array(first).fill(97));
    },
  });
}

/** A client's upload body of exactly `bytes` bytes (say, fewer than its Content-Length announced). */
export function sizedBody(bytes: number): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(new Uint8Array(bytes).fill(98));
      c.close();
    },
  });
}

/** A client's upload body: chunks of text, each after a pause. */
export function pacedBody(parts: string[], pauseMs: number): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    async pull(c) {
      await sleep(pauseMs);
      if (i === parts.length) return c.close();
      c.enqueue(new TextEncoder().encode(parts[i++]!));
    },
  });
}
