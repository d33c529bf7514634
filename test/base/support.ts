// Requests to the base worker under test (the main worker of this workerd project).
import { env, exports } from "cloudflare:workers";
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import worker from "../../src/base-index";

const testEnv = env as unknown as Env & { TEST_TARGETS: string; TEST_TARGET_CONTROL_URL: string; TEST_CONTROL_URL: string };
export const targetPorts = testEnv.TEST_TARGETS.split(",").map(Number) as [number, number, number];
export const nodeUrl = (i: 0 | 1) => `http://127.0.0.1:${targetPorts[i]}`;
export const originUrl = testEnv.ORIGIN_URL;
export const mirrorUrl = `http://127.0.0.1:${targetPorts[2]}/pub`;

export interface BaseRequest {
  method?: string;
  headers?: Record<string, string>;
  ip?: string;
  body?: BodyInit;
  cf?: Record<string, unknown>;
}

function request(path: string, init: BaseRequest): Request {
  const headers = new Headers(init.headers);
  if (!headers.has("cf-connecting-ip")) headers.set("cf-connecting-ip", init.ip ?? "198.51.100.7");
  const r = new Request(`http://base.test${path}`, { method: init.method ?? "GET", headers, body: init.body ?? null, redirect: "manual" });
  return init.cf ? new Request(r, { cf: init.cf } as RequestInit) : r;
}

export function baseFetch(path: string, init: BaseRequest = {}): Promise<Response> {
  return (exports as unknown as { default: Fetcher }).default.fetch(request(path, init));
}

// One env object per variant, as a deployment has: per-env state (parsed config,
// round-robin position, health view) then behaves as it would in production.
const variants = new Map<string, Env>();

/** The base with some variables changed (same real bindings). */
export async function baseWithVars(vars: Record<string, string>, path: string, init: BaseRequest = {}): Promise<Response> {
  const id = JSON.stringify(vars);
  let variant = variants.get(id);
  if (!variant) variants.set(id, (variant = { ...(env as object), ...vars } as unknown as Env));
  return await worker.fetch(request(path, init) as Request<unknown, IncomingRequestCfProperties>, variant, createExecutionContext());
}

/** One Cron run of the active health checks, as Cloudflare would fire it. */
export async function cronHealthChecks(): Promise<void> {
  const ctx = createExecutionContext();
  worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "* * * * *" }), env as unknown as Env, ctx);
  await waitOnExecutionContext(ctx);
}

export async function target(i: 0 | 1 | 2, action: "set" | "down" | "up", params: Record<string, string | number> = {}): Promise<{ probes: number }> {
  const q = new URLSearchParams({ port: String(targetPorts[i]), ...Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)])) });
  const res = await fetch(`${testEnv.TEST_TARGET_CONTROL_URL}/${action}?${q}`);
  if (!res.ok) throw new Error(`target control ${action}: ${res.status}`);
  return res.json();
}
