// Farms under test: the real base worker, the real FarmRegistry Durable Object and the
// real echo backends. The workerd-base project binds FARMS (vitest.config.ts):
//   farm_one   web1 = b0, web2 = b1; health GET /health, rise 2, fall 2; fallback
//              https://sorry.example.net; qos [farm_gold]
//   farm_stats least-loaded, statsTtlSeconds 2; s1 = b0, s2 = b1, s3 = b2
//   farm_gold  gold1 = b2
import { env } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import worker from "../../../src/base-index";
import { farmRegistry } from "../../../src/farms/runtime";
import { signSticky, type StickyClaim } from "../../../src/farms/sticky-cookie";
import type { SigningKey } from "../../../src/signing/redirect-token";
import { backend, backendUrl } from "../proxy/support";

export const TOKEN = "ath-test-token-0123456789";
export const AUTH = { authorization: `Bearer ${TOKEN}` } as const;
/** ATH_COOKIE_KEYS of the project: c2 signs, both verify. */
export const C2: SigningKey = { id: "c2", secret: "cookie-test-secret-0002" };
export const C1: SigningKey = { id: "c1", secret: "cookie-test-secret-0001" };
export const FALLBACK = "https://sorry.example.net";

/** Member URLs as configured (query mode answers these). */
export const URLS = {
  web1: backendUrl(0),
  web2: backendUrl(1),
  gold1: backendUrl(2),
  s1: backendUrl(0),
  s2: backendUrl(1),
  s3: backendUrl(2),
} as const;

export const registry = () => farmRegistry(env as unknown as Env);

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

export interface Init {
  method?: string;
  headers?: Record<string, string>;
}

export type Base = (path: string, init?: Init) => Promise<Answer>;

/**
 * The base as a new deployment (a new env object) with `vars` changed: its own parsed
 * config, registry view (loaded on its first request, so it shows the registry as it is
 * now), round-robin counters and passive marks. Unlike baseWithVars it waits for the
 * request's background work (view refreshes, passive reports to the registry), so
 * nothing a test caused lands in the registry after the test ended.
 */
export function freshBase(vars: Record<string, string> = {}): Base {
  const variant = { ...(env as object), ...vars } as unknown as Env;
  return async (path, init = {}) => {
    const headers = new Headers(init.headers);
    if (!headers.has("cf-connecting-ip")) headers.set("cf-connecting-ip", "198.51.100.7");
    const req = new Request(`http://base.test${path}`, { method: init.method ?? "GET", headers, redirect: "manual" });
    const ctx = createExecutionContext();
    const res = await worker.fetch(req as Request<unknown, IncomingRequestCfProperties>, variant, ctx);
    const text = await res.text();
    await waitOnExecutionContext(ctx);
    return { status: res.status, headers: res.headers, text };
  };
}

/** Query mode with the test token; the body, which must be a 200. */
export async function balance(base: Base, query: string, headers: Record<string, string> = {}): Promise<string> {
  const res = await base(`/ath/balance/?${query}`, { headers: { ...AUTH, ...headers } });
  if (res.status !== 200) throw new Error(`query mode ?${query}: ${res.status} ${res.text}`);
  return res.text;
}

/** `n` query-mode answers for one farm, from one deployment. */
export async function balanceMany(base: Base, farm: string, n: number, headers: Record<string, string> = {}): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push((await balance(base, farm, headers)).trim());
  return out;
}

/** A Cookie header carrying a sticky cookie signed as a backend would. */
export async function stickyCookie(claim: Partial<StickyClaim> & { farm: string }, key: SigningKey = C2): Promise<string> {
  const value = await signSticky(key, { member: "", expires: Math.floor(Date.now() / 1000) + 3600, ...claim });
  return `athena=${value}`;
}

/** Every backend listening and answering 200, every member record gone (fresh: enabled, up, no stats). */
export async function resetFarms(): Promise<void> {
  for (const i of [0, 1, 2] as const) await backend(i, "reset");
  await registry().forgetAllBut([]);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
