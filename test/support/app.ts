// Calls the node with a variant of the test configuration (same real bindings).
import { env } from "cloudflare:workers";
import { createExecutionContext } from "cloudflare:test";
import worker from "../../src/index";

export async function fetchWithVars(vars: Record<string, string>, path: string, init: RequestInit & { ip?: string } = {}): Promise<Response> {
  return fetchWithEnv(envWithVars(vars), path, init);
}

/** The test env with some vars changed: a deployment of its own (per-isolate state is kept per env object). */
export function envWithVars(vars: Record<string, string>): Env {
  return { ...(env as object), ...vars } as unknown as Env;
}

/** A request from client `init.ip` to the node under `e`: reuse one `e` to reuse what the isolate keeps for it. */
export async function fetchWithEnv(e: Env, path: string, init: RequestInit & { ip?: string } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("cf-connecting-ip", init.ip ?? "198.51.100.99");
  const ctx = createExecutionContext();
  // Not waiting on ctx: the download slot is released by a waitUntil that ends with the body.
  return worker.fetch(new Request(`http://node.test${path}`, { ...init, headers }), e, ctx);
}
