import { Hono, type Env as HonoEnv } from "hono";
import { errorAnswer } from "../platform/error-answer";
import { perIsolate } from "../platform/per-isolate";
import { parseBaseConfig } from "../config/base-config";
import { ConfigError } from "../config/fields";
import { parsed, type Parsed } from "../config/parsed-once";
import { mirrorUrlProblem } from "../http/link";
import { plain, quoted } from "../http/plain";
import { importSigningKey, parseSigningKeys } from "../signing/redirect-token";
import { frontChecks, reservedSpelling, type FrontPath } from "./front";
import { backendHook, routeHooks } from "./routes";
import { parseProxyRoutes, type ProxyRoute } from "../config/proxy-config";
import { matchRoute } from "../proxy/match";
import { proxyRequest, type ProxyOptions } from "../proxy/proxy";
import { parseFarmsConfig } from "../config/farms-config";
import { athBalance, athUpdate } from "../farms/ath-routes";
import { farmRanking } from "../farms/proxy-ranking";
import { parseAdminToken } from "../config/admin-config";
import { statsFlushSeconds } from "../config/stats-flush";
import { log, logFailedAnswer } from "../platform/log";
import { lazyRequestId, requestId } from "../http/request-id";
import { headAware } from "../http/head-answer";
import type { Soon } from "../platform/soon";
import { bypassStatus, publicOriginOf, type BaseRequest, type Loaded } from "./base-request";
import { offloadOrServe } from "./offload";

/** `path`: the request's canonical path and query, checked once by the first middleware. */
type BaseEnv = { Bindings: Env; Variables: { base: Loaded; path: FrontPath } };

// Parsed once per env (isolate + deployment), with the ConfigError naming a bad field.
const load = perIsolate((env: object): Parsed<Loaded> => {
  const loaded = parsed(() => {
    const config = parseBaseConfig(env as Record<string, unknown>);
    const { keys, errors } = parseSigningKeys(config.signingKeys);
    if (errors.length) throw new ConfigError("SIGNING_KEYS", errors.join("; "));
    // Redirect headers are built by concatenation per request; the URLs are checked here, once.
    for (const [field, list] of [["OFFLOAD_NODES", config.nodes], ["MIRRORS", config.mirrors]] as const) {
      list.forEach((t, i) => {
        const problem = mirrorUrlProblem(t.url);
        if (problem) throw new ConfigError(`${field}[${i}].url`, problem);
      });
    }
    statsFlushSeconds(env as Record<string, unknown>); // validated here, so a bad value answers 500 naming it
    const farmsConfig = parseFarmsConfig(env as Record<string, unknown>);
    const cookieKeys = parseSigningKeys(farmsConfig.cookieKeys);
    if (cookieKeys.errors.length) throw new ConfigError("ATH_COOKIE_KEYS", cookieKeys.errors.join("; "));
    const routes = parseProxyRoutes(env as Record<string, unknown>, "PROXY_ROUTES", farmsConfig.farms);
    const first = keys[0];
    const signer = first ? { key: first, imported: importSigningKey(first) } : null;
    const needsHost = routes.some((r) => r.host !== null || r.rewriteRequest.length > 0);
    const healthId = (env as Env).HEALTH.idFromName("registry");
    const offloadStatus = new Map([...config.nodes, ...config.mirrors].map((t) => [t.id, bypassStatus(config, `offload=${t.id}`)]));
    return { config, keys, signer, routes, healthId, offloadStatus, needsHost, hooks: new Map(routes.map((r) => [r, routeHooks(r)])), farms: { config: farmsConfig, cookieKeys: cookieKeys.keys }, adminToken: parseAdminToken(env as Record<string, unknown>) };
  });
  // Once per isolate, not per request: every answer names the field until it is fixed.
  if (!loaded.ok) log.error("config.invalid", { field: loaded.error.field, error: loaded.error.message });
  return loaded;
});

/**
 * mod_offload's base side: decides per request whether to send the client to an
 * offload node or mirror (307 with mirror metadata) or to serve it itself, streaming
 * from the origin as a transparent reverse proxy. `mounted`: apps of rooms above the
 * base (the admin, under /_admin), passed in by the wiring so that dependencies point
 * one way (docs/architecture.md). They run after the front checks (canonical path,
 * reserved spellings) and before the catch-all, and find the loaded config as `base`;
 * they may only route under /_admin or /ath (reserved paths, see below).
 *
 * Only reserved paths go through Hono's router: every other request is the catch-all's
 * and no route or middleware there could answer it, so it is answered directly, without
 * a Hono Context, a router match and a middleware chain per redirect (issue #13).
 */
export function offloadBase<M extends HonoEnv>(mounted: readonly Hono<M>[] = []): { fetch: (req: Request, env: Env, ctx: ExecutionContext) => Soon<Response> } {
  const routes = reservedRoutes(mounted);
  return {
    // Not async: a redirect whose facts this isolate holds is answered without a promise
    // (src/platform/soon.ts); the request's method and headers are read from it once.
    fetch(req, env, ctx) {
      const method = req.method;
      const l = load(env);
      if (!l.ok) return headAware(method, plain(500, l.error.message));
      const front = frontChecks(req.url);
      if (!front.ok) return headAware(method, front.res);
      if (front.reserved) return routes.fetch(req, env, ctx);
      const path = front.path;
      const headers = req.headers;
      const finish = (res: Response): Response => {
        logFailedAnswer({ req, res, worker: l.config.baseId, path: path.path });
        return headAware(method, res);
      };
      const failed = (err: unknown): Response => headAware(method, errorAnswer(err, "offload base", headers));
      let out: Soon<Response>;
      try {
        out = catchAll({ base: l, env, ctx, req, method, headers, now: Date.now(), path, requestId: lazyRequestId(headers) });
        if (!(out instanceof Promise)) return finish(out);
      } catch (err) {
        return failed(err);
      }
      return out.then(finish).catch(failed);
    },
  };
}

/** /_admin (the mounted apps) and /ath: the paths whose routes alone may answer. */
function reservedRoutes<M extends HonoEnv>(mounted: readonly Hono<M>[]): Hono<BaseEnv> {
  const app = new Hono<BaseEnv>();

  // The front checks passed in fetch above; run again here (reserved paths only) to hand
  // the routes the loaded config and canonical path.
  app.use("*", async (c, next) => {
    const l = load(c.env);
    const front = frontChecks(c.req.url);
    if (!l.ok || !front.ok) throw new Error("front checks differ between offloadBase's fetch and its routes");
    c.set("base", l);
    c.set("path", front.path);
    await next();
  });

  // The operator's page and API.
  for (const sub of mounted) app.route("/", sub);

  // mod_athena: stats pushed by the members' agents, and query mode. Refusals are log
  // lines (a run of 401s is someone guessing ATH_TOKEN): path and status only, never the
  // query, which may carry token=.
  app.use("/ath/*", async (c, next) => {
    await next();
    const status = c.res.status;
    if (status >= 400 && status < 500) log.warn("ath.refused", { requestId: requestId(c.req.raw.headers), worker: c.get("base").config.baseId, path: c.get("path").path, status });
  });
  app.get("/ath/update", (c) => athUpdate(c.get("base").farms, c.req.raw, c.env));
  for (const path of ["/ath/balance/", "/ath/balance"]) app.get(path, (c) => athBalance(c.get("base").farms, c.req.raw, c.env, c.executionCtx as unknown as ExecutionContext));
  app.all("/ath/*", () => plain(404, "no such /ath endpoint (GET /ath/update, GET /ath/balance/)"));
  // A reserved path no route took (an unknown /_admin/...): as the catch-all answers them.
  app.all("*", (c) => notReserved(c.get("path")));

  app.onError((err, c) => errorAnswer(err, "offload base", c.req.raw.headers));
  return app;
}

function notReserved(path: FrontPath): Response {
  return plain(404, `no such endpoint: ${quoted(path.path)}`);
}

/** Everything not under /_admin or /ath: a proxy route's pool, else offload or serve locally. */
function catchAll(r: BaseRequest): Soon<Response> {
  const { base, req, path } = r;
  // Defence in depth: the routes own these; nothing under them goes to the origin.
  if (reservedSpelling(path.path)) return notReserved(path);
  // mod_proxy_core: a configured route sends the request to its backend pool instead.
  // The URL is parsed for its host only when a route or rewrite rule can use it (issue #13).
  const host = base.needsHost ? new URL(req.url).host : "";
  const route = matchRoute(base.routes, host, path.path);
  return route ? proxied(r, route, host) : offloadOrServe(r);
}

/**
 * A farm's route first waits for the farm's ranking; any other goes straight to its pool,
 * without an async frame or object spreads of its own per request (issue #13).
 */
function proxied(r: BaseRequest, route: ProxyRoute, host: string): Promise<Response> {
  if (route.farm) return proxiedByFarm(r, route, host);
  return proxyRequest(route, r.req, r.ctx, r.env, publicOriginOf(r.base.config), proxyOptions(r, route, host));
}

/** `route` itself goes on (its hooks and pool state are keyed by the object); the farm gets a narrowed copy. */
async function proxiedByFarm(r: BaseRequest, route: ProxyRoute, host: string): Promise<Response> {
  const { base, env, ctx, req, path } = r;
  const options = proxyOptions(r, route, host);
  options.ranking = await farmRanking(base.farms, { ...route, farm: route.farm! }, req, path.path, env, ctx);
  return proxyRequest(route, req, ctx, env, publicOriginOf(base.config), options);
}

/** The route's hook and what the front checks already know (canonical path, host when used). */
function proxyOptions({ base, req, env, path }: BaseRequest, route: ProxyRoute, host: string): ProxyOptions {
  const hook = backendHook(base.hooks.get(route)!, req, env);
  const options: ProxyOptions = { path };
  if (hook.hidden) options.hidden = hook.hidden;
  if (hook.onBackendResponse) options.onBackendResponse = hook.onBackendResponse;
  if (base.needsHost) options.clientHost = host;
  return options;
}
