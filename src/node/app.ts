import { Hono } from "hono";
import { errorAnswer } from "../platform/error-answer";
import { log, logFailedAnswer } from "../platform/log";
import { lazyRequestId } from "../http/request-id";
import { loadConfig, type ConfigResult } from "./load-config";
import type { NodeConfig } from "../config/node-config";
import { cacheStatus } from "../http/cache-status";
import { canonicalRequestPath, type PathResult } from "../http/path";
import { headAware } from "../http/head-answer";
import { factsOf } from "../platform/answer-facts";
import { beginGuard } from "../limits/guard";
import { clientOfAnswer } from "../limits/client-key";
import { passThrough } from "./pass-through";
import { plain } from "../http/plain";
import { serveObject } from "./serve-object";
import type { Asked } from "../store/respond";
import { checkSignedUrl } from "./signed-url";
import { recordServed } from "../stats/recorder";
import { downloadsInFlight } from "../limits/load-gauge";
import type { SigningKey } from "../signing/redirect-token";
import type { ResponseThrottle } from "../throttle";

export const HEALTH_PATH = "/.well-known/offload/health";

type NodeEnv = { Bindings: Env };
type Loaded = Extract<ConfigResult, { ok: true }>;

/**
 * The offload node: GET/HEAD <path> serves ORIGIN_URL/<path> from the edge.
 *
 * Downloads (every GET/HEAD but the health path) are answered directly, without a Hono
 * Context, a router match and a middleware chain per request: on a 1 KiB hit those cost
 * about as much as the node's own work (issue #13), and no route could answer them but
 * the catch-all. Hono keeps the health path, the 405 for other methods and its error
 * handler; a download's error is answered the same way (uncaught).
 */
export function offloadNode(): { fetch(req: Request, env: Env, ctx: ExecutionContext): Promise<Response> } {
  const app = reservedRoutes();
  return {
    async fetch(req, env, ctx) {
      // Read once: each read of a Request's method or headers is a call into the runtime.
      const method = req.method;
      if (method !== "GET" && method !== "HEAD") return app.fetch(req, env, ctx);
      const loaded = loadConfig(env);
      if (!loaded.ok) return headAware(method, badConfig(loaded.error));
      const path = canonicalRequestPath(req.url);
      if (path.ok && path.path === HEALTH_PATH) return app.fetch(req, env, ctx);
      const headers = req.headers;
      try {
        return headAware(method, await download({ req, method, headers }, env, ctx, loaded, path));
      } catch (err) {
        return headAware(method, uncaught(err, headers, loaded));
      }
    },
  };
}

/** The health path, other methods (405) and Hono's error handler: what goes through the router. */
function reservedRoutes(): Hono<NodeEnv> {
  const app = new Hono<NodeEnv>();

  // Polled by the base's health checks; reports this isolate's downloads in flight.
  app.get(HEALTH_PATH, (c) => {
    const loaded = loadConfig(c.env);
    if (!loaded.ok) return badConfig(loaded.error);
    return c.json({ node: loaded.config.nodeId, load: downloadsInFlight(c.env) }, 200, { "cache-control": "no-store", "cache-status": cacheStatus(loaded.config.nodeId, { fwd: "bypass" }) });
  });

  app.all("*", (c) => {
    const refused = plain(405, "method not allowed: this node serves GET and HEAD", { allow: "GET, HEAD" });
    const loaded = loadConfig(c.env);
    return loaded.ok ? stamped(refused, loaded.config, "method") : badConfig(loaded.error);
  });

  app.onError((err, c) => uncaught(err, c.req.raw.headers, loadConfig(c.env)));

  return app;
}

/** A download request with its method and headers, read once (store/respond.ts's Asked). */
type AskedRequest = Asked & { req: Request };

/** One GET/HEAD of a download path, with the node's loaded config. */
async function download({ req, method, headers }: AskedRequest, env: Env, ctx: ExecutionContext, loaded: Loaded, path: PathResult): Promise<Response> {
  const { config, keys, throttle } = loaded;
  if (!path.ok) return stamped(plain(path.status, `bad request path: ${path.reason}`), config, "bypass");
  const res = await answer({ config, keys, throttle, env, ctx, req, method, headers, path });
  logFailedAnswer({ req, res, worker: config.nodeId, path: path.path });
  // Offload totals for the admin page: the final answer, after guard and throttle, so a
  // refusal counts as one and a paced download as served; its body bytes are counted as
  // the client pulls them (the answer sent is the counted one). Flushed in the background.
  const counted = recordServed(env, ctx, { path: path.path, req, method, res, worker: config.nodeId, client: clientOfAnswer(headers) });
  return stamped(counted, config, "bypass");
}

/** The answer to an error nothing caught, on either path (the router's or a download's). */
function uncaught(err: unknown, headers: Headers, loaded: ConfigResult): Response {
  const answer = errorAnswer(err, "offload node", headers);
  return loaded.ok ? stamped(answer, loaded.config, "bypass") : answer;
}

/** Wrangler vars cannot be checked before deploy; a bad one answers every request with its name. */
function badConfig(error: Error): Response {
  return plain(500, error.message);
}

/** RFC 9211: every answer says what the cache did, refusals included. */
function stamped(res: Response, config: NodeConfig, fwd: "bypass" | "method"): Response {
  if (factsOf(res).get("cache-status") !== null) return res;
  const headers = new Headers(res.headers);
  headers.set("cache-status", cacheStatus(config.nodeId, { fwd }));
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
}

/** One GET/HEAD of a checked path, with what the node loaded for its env. */
interface NodeRequest {
  config: NodeConfig;
  keys: SigningKey[];
  throttle: ResponseThrottle | null;
  env: Env;
  ctx: ExecutionContext;
  req: Request;
  /** `req.method` and `req.headers`, read once. */
  method: string;
  headers: Headers;
  /** The canonical path and the raw query (http/path.ts). */
  path: { path: string; query: string };
}

/** One GET/HEAD of a checked path: signed-URL check, credentials, guard, object, pacing. */
async function answer({ config, keys, throttle, env, ctx, req, method, headers, path }: NodeRequest): Promise<Response> {
  const policy = { required: config.requireSignedUrls, keys, queryKeyed: config.cacheKeyQuery, maxTtlSeconds: config.tokenMaxTtlSeconds, requireClient: config.requireTokenClient };
  const id = lazyRequestId(headers);
  // At once unless a token is to be verified: no await (a microtask turn) for an unsigned hit.
  const checked = checkSignedUrl(policy, path.path, path.query, headers);
  const signed = checked instanceof Promise ? await checked : checked;
  if (!signed.ok) {
    // The path only: the query holds the token that was refused.
    log.warn("signed-url.refused", { requestId: id(), worker: config.nodeId, path: path.path, status: signed.status, reason: signed.reason });
    return plain(signed.status, signed.reason);
  }
  const key = path.path + (config.cacheKeyQuery && signed.query ? `?${signed.query}` : "");
  // RFC 9111 §3.5: a shared cache does not store answers to authenticated requests.
  const credentialed = config.forwardCredentials && (headers.has("cookie") || headers.has("authorization"));

  // One limiter per client and canonical path, never the query or the credentials: a new
  // query is a new cache key but not a new file to the client's download accelerator.
  const guard = beginGuard({ config, ns: env.CONCURRENCY, env, method, headers, path: path.path, ctx });
  let res: Response;
  try {
    res = credentialed
      ? await passThrough(config, { req, target: key, cacheStatus: cacheStatus(config.nodeId, { fwd: "request", detail: "credentials" }), requestId: id })
      : await serveObject({ req, asked: { method, headers }, key, config, env, ctx, sizeKnown: (n) => guard.sizeKnown(n), requestId: id });
  } catch (e) {
    guard.abandon();
    throw e;
  }
  const finished = guard.finish(res);
  const guarded = finished instanceof Promise ? await finished : finished;
  // mod_dialup per node download: the paced body still holds its download slot.
  if (!throttle) return guarded;
  const status = factsOf(guarded).status;
  return status === 200 || status === 206 ? throttle(guarded) : guarded;
}

