// The base as one deployment with these vars (one env object per variant, so its
// per-isolate views behave as in production), every answer's background work awaited.
import { env } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import worker from "../../../src/base-index";

export const TOKEN = "admin-test-token-0123456789";
export const bearer = { authorization: `Bearer ${TOKEN}` };

const variants = new Map<string, Env>();

export function variantEnv(vars: Record<string, string>): Env {
  const id = JSON.stringify(vars);
  let variant = variants.get(id);
  if (!variant) variants.set(id, (variant = { ...(env as object), ...vars } as unknown as Env));
  return variant;
}

export async function deployFetch(vars: Record<string, string>, path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const headers = new Headers(init.headers);
  headers.set("cf-connecting-ip", "198.51.100.7");
  const req = new Request(`http://base.test${path}`, { method: init.method ?? "GET", headers, body: init.body ?? null, redirect: "manual" });
  const res = await worker.fetch(req as Request<unknown, IncomingRequestCfProperties>, variantEnv(vars), ctx);
  const body = await res.arrayBuffer();
  await waitOnExecutionContext(ctx);
  return new Response(init.method === "HEAD" ? null : body, { status: res.status, headers: res.headers });
}

/** The admin's JSON API of that deployment, with the bearer token. */
export function api(vars: Record<string, string>, method: string, path: string, body?: unknown): Promise<Response> {
  return deployFetch(vars, `/_admin/api${path}`, {
    method,
    headers: { ...bearer, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
  });
}

export interface ListedMirror {
  id: string;
  enabled: boolean;
  source: string;
  edited: boolean;
  spec: { id: string; url: string; weight: number; prefixes: string[]; location?: { lat: number; lon: number; country?: string } };
  last: { verdict: string; path: string } | null;
  perMinute: { redirects: number; bytes: number } | null;
  scan: { lagging: boolean; reason: string; lagFiles: number; scannedAt: number | null; lastError: string } | null;
}
export interface Listed {
  mirrors: ListedMirror[];
  history: { mirror: string; who: string; what: string; before: string | null; after: string | null }[];
}

export async function listed(vars: Record<string, string>): Promise<Listed> {
  const res = await api(vars, "GET", "/mirrors");
  if (res.status !== 200) throw new Error(`GET /mirrors: ${res.status} ${await res.text()}`);
  return (await res.json()) as Listed;
}
