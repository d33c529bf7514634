import { Hono, type Env as HonoEnv } from "hono";
import { errorAnswer } from "../platform/error-answer";
import { perIsolate } from "../platform/per-isolate";
import { parseBaseConfig, type BaseConfig } from "../config/base-config";
import { ConfigError } from "../config/fields";
import { parsed, type Parsed } from "../config/parsed-once";
import type { TargetSpec } from "../config/targets";
import { cacheStatus } from "../http/cache-status";
import { mirrorUrlProblem } from "../http/link";
import { buildMetalink4, METALINK_TYPE, wantsMetalink } from "../http/metalink";
import { plain, quoted } from "../http/plain";
import { clientOf, clientOfAnswer } from "../limits/client-key";
import { acquireLease, holdWhileStreaming } from "../limits/lease";
import { healthView } from "../health/view";
import { importSigningKey, parseSigningKeys, signToken, type SigningKey, type TokenClaims } from "../signing/redirect-token";
import { partitionTokenQuery, withTokenMember } from "../signing/token-query";
import { objectDecision, requestDecision } from "./decide";
import { mirrorHeaders } from "./mirror-headers";
import { redirectAnswer, redirectFields, withRedirectFields } from "./redirect";
import { askedPage, mirrorListAnswer, notOffloadedPage, originHasOwn, sha256Answer, type PageAsk } from "./mirror-pages";
import { objectInfo, type ObjectInfo } from "./object-info";
import { serveLocally, type LocalRequest } from "./serve-locally";
import { frontChecks, reservedSpelling, type FrontPath } from "./front";
import { backendHook, routeHooks, type RouteHooks } from "./routes";
import { parseProxyRoutes, type ProxyRoute } from "../config/proxy-config";
import { matchRoute } from "../proxy/match";
import { proxyRequest, type ProxyOptions } from "../proxy/proxy";
import { chooseTargets, withCurrentMirrors, type TargetChoice } from "./targets";
import { catalogView } from "../mirrors/catalog-view";
import { parseFarmsConfig } from "../config/farms-config";
import { athBalance, athUpdate } from "../farms/ath-routes";
import { farmRanking } from "../farms/proxy-ranking";
import type { LoadedFarms } from "../farms/runtime";
import { parseAdminToken } from "../config/admin-config";
import { statsFlushSeconds } from "../config/stats-flush";
import { recordMirrorRedirect, recordServed, type ServedAnswer } from "../stats/recorder";
import { log, logFailedAnswer } from "../platform/log";
import { lazyRequestId, requestId } from "../http/request-id";
import { headAware } from "../http/head-answer";
import { andThen, type Soon } from "../platform/soon";
import type { HealthRecord } from "../health/registry";
import type { Catalog } from "../mirrors/catalog";

interface Loaded {
  config: BaseConfig;
  keys: SigningKey[];
  /** The first key, imported once for signing. */
  signer: { key: SigningKey; imported: Promise<CryptoKey> } | null;
  routes: ProxyRoute[];
  /** The HealthRegistry's id: one name hash per isolate, not per redirect. */
  healthId: DurableObjectId;
  /** Cache-Status of a redirect to each target, by id: the same string every time. */
  offloadStatus: Map<string, string>;
  /** Some route names a host or rewrites requests: only then is the request's host needed. */
  needsHost: boolean;
  hooks: Map<ProxyRoute, RouteHooks>;
  farms: LoadedFarms;
  adminToken: string | null;
}
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

/** One request that reached the catch-all, with what the front middleware checked and loaded. */
interface BaseRequest {
  base: Loaded;
  env: Env;
  ctx: ExecutionContext;
  req: Request;
  /** `req.method` and `req.headers`, read once: each read is a call into the runtime. */
  method: string;
  headers: Headers;
  /** The request's one clock reading (memo expiry, token expiry). */
  now: number;
  /** Canonical path and raw query (http/path.ts). */
  path: FrontPath;
  /** One id for the request's error answer and every log line about it (made on first use). */
  requestId: () => string;
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

/**
 * Only hosts from our configuration are ever named (issue #11 L3): without PUBLIC_URL,
 * "" makes every reference we build path-absolute (RFC 3986 §4.2), never the Host the
 * client sent.
 */
function publicOriginOf(config: BaseConfig): string {
  return config.publicUrl ?? "";
}

/** mod_offload's base: the request's and the file's rules decide; offloaded files get a redirect (or a Metalink, or a mirror page). */
function offloadOrServe(r: BaseRequest): Soon<Response> {
  const { base, env, method, headers, path } = r;
  const { config } = base;
  const ask = askedPage(method, path.path, path.query);
  if (ask instanceof Response) return ask;
  const byRequest = requestDecision(config, method, ask.file, headers);
  if (!byRequest.offload) return notOffloaded(r, ask, byRequest.reason);
  return andThen(objectInfo(config, env, ask.file, { requestId: r.requestId, now: r.now }), (info) => offloadKnown(r, ask, info));
}

/** The file's facts are known (or the origin could not give them): its rules decide. */
function offloadKnown(r: BaseRequest, ask: PageAsk, info: ObjectInfo | null): Soon<Response> {
  const { path } = r;
  const byObject = objectDecision(r.base.config, info);
  if (!byObject.offload) return notOffloaded(r, ask, byObject.reason);
  // objectDecision offloads only a file whose facts are known.
  if (ask.page === "sha256") return sha256Page(r, ask, info!);
  // A page flag leaves the query (the rest is the file's, as a redirect carries it).
  return offload(ask.query === path.query ? r : { ...r, path: { ...path, query: ask.query } }, { filePath: ask.file, info: info!, page: ask.page });
}

/** The origin's own <file>.sha256 is served as it is (src/base/mirror-pages.ts). */
async function sha256Page(r: BaseRequest, ask: PageAsk, info: ObjectInfo): Promise<Response> {
  const { base, env, method, path } = r;
  return ask.byQuery || !(await originHasOwn(base.config, env, path.path)) ? sha256Answer(ask.file, info, method) : servedHere(r, null);
}

/** A file the base serves itself: a page named by a path suffix is the origin's name, a query-form page a plain 404. */
function notOffloaded(r: BaseRequest, ask: PageAsk, reason: string): Promise<Response> {
  if (ask.page === null) return servedHere(r, reason);
  return ask.byQuery ? Promise.resolve(notOffloadedPage(ask, reason)) : servedHere(r, null);
}

/**
 * The base serves the request from its origin. `reason`: the Cache-Status detail, and the
 * answer counts in the offload totals (bytes from the origin); null for a .meta4 URL the
 * origin answers as it likes, not counted.
 */
async function servedHere(r: BaseRequest, reason: string | null, extra?: Headers): Promise<Response> {
  const { base, env, ctx, path } = r;
  if (reason === null) return serveLocally(base.config, localRequest(r));
  const headers = extra ?? new Headers();
  headers.set("cache-status", bypassStatus(base.config, reason));
  const res = await serveLocally(base.config, localRequest(r), headers);
  return recordServed(env, ctx, servedAnswer(r, res));
}

/** What the offload totals count of an answer the base gives itself. */
function servedAnswer({ base, req, method, headers, path }: BaseRequest, res: Response): ServedAnswer {
  return { path: path.path, req, method, res, worker: base.config.baseId, client: clientOfAnswer(headers) };
}

function localRequest({ base, req, ctx, path, requestId }: BaseRequest): LocalRequest {
  return { req, ctx, target: path.path + (path.query ? `?${path.query}` : ""), publicOrigin: publicOriginOf(base.config), requestId };
}

function bypassStatus(config: BaseConfig, detail: string): string {
  return cacheStatus(config.baseId, { fwd: "bypass", detail });
}

interface OffloadFile {
  filePath: string;
  info: ObjectInfo;
  page: "meta4" | "mirrorlist" | null;
}

/** An offloadable file: a Metalink, the base itself while under OFFLOAD_WHEN_BUSY, or a redirect to the best target. */
function offload(r: BaseRequest, file: OffloadFile): Soon<Response> {
  const { base, env, ctx, now } = r;
  // Loaded views come back as they are; only an isolate's first redirect waits for them.
  const health = healthView(env, () => env.HEALTH.get(base.healthId), ctx, now);
  const catalog = catalogView(env, base.config.mirrors, ctx, now);
  if (health instanceof Promise || catalog instanceof Promise) return Promise.all([health, catalog]).then(([h, c]) => offloadAmong(r, file, h, c));
  return offloadAmong(r, file, health, catalog);
}

function offloadAmong(r: BaseRequest, file: OffloadFile, health: Record<string, HealthRecord>, catalog: Catalog): Soon<Response> {
  const { base, env, ctx, req, path, headers, now } = r;
  const { config } = base;
  const { filePath, info } = file;
  const ranked = chooseTargets(env, config, { path: filePath, health, req, catalog });
  // Mirrors only where they hold the current version (issue #14; nodes are current by construction).
  const choice = withCurrentMirrors(ranked, { env, config, path: filePath, info, ctx, catalog, now });
  // Every target URL (nodes, mirrors, fallback) carries the client's query without any
  // offload_token it sent: only the token we sign below ever reaches a node.
  const { query } = partitionTokenQuery(path.query);
  return andThen(targetUrls(env, config, base.signer, { path: filePath, query, headers, now }), (urlOf) => offloadTo(r, file, { choice, query, urlOf }));
}

/** Where the file may be fetched from (ranked, current), and each place's URL. */
interface Places {
  choice: TargetChoice;
  /** The client's query without any token. */
  query: string;
  urlOf: (t: TargetSpec) => string;
}

function offloadTo(r: BaseRequest, file: OffloadFile, places: Places): Soon<Response> {
  const { base, method, headers } = r;
  const { config } = base;
  const { filePath, info } = file;
  const { choice, urlOf } = places;
  const metalinkUrl = `${publicOriginOf(config)}${filePath}.meta4`;
  const wantReprDigest = headers.get("want-repr-digest");
  // Made for each answer that sends it (a redirect may take its fields from redirectFields).
  const extra = () => mirrorHeaders({ ranked: choice.ranked, urlOf, info, metalinkUrl, wantReprDigest, maxLinks: config.maxLinks });

  if (file.page === "meta4" || (file.page === null && wantsMetalink(headers.get("accept")))) return metalinkResponse(filePath, info, choice, urlOf, method, extra());
  if (file.page === "mirrorlist") {
    return mirrorListAnswer({ path: filePath, info, ranked: choice.ranked, urlOf, configured: config.nodes.length + config.mirrors.length, publicOrigin: publicOriginOf(config), method });
  }
  // Threshold mode: serve it ourselves while fewer than OFFLOAD_WHEN_BUSY downloads are in flight.
  if (config.busyThreshold > 0 && method === "GET") return underThresholdOr(r, file, places, extra, wantReprDigest);
  return redirected(r, file, places, extra, wantReprDigest);
}

async function underThresholdOr(r: BaseRequest, file: OffloadFile, places: Places, extra: () => Headers, wantReprDigest: string | null): Promise<Response> {
  const { base: { config }, env, ctx } = r;
  const gauge = env.BUSY.get(env.BUSY.idFromName("base-downloads"));
  const slot = await acquireLease(gauge, config.busyThreshold, config.leaseSeconds * 1000, ctx);
  if (!slot.ok) return redirected(r, file, places, extra, wantReprDigest);
  const headers = extra();
  headers.set("cache-status", bypassStatus(config, "under-threshold"));
  const res = holdWhileStreaming(slot.lease, await serveLocally(config, localRequest(r), headers));
  return recordServed(env, ctx, servedAnswer(r, res));
}

/** A redirect to the best target; the fallback URL or the base itself when none is healthy. */
function redirected(r: BaseRequest, file: OffloadFile, { choice, query, urlOf }: Places, extra: () => Headers, wantReprDigest: string | null): Soon<Response> {
  const { base, env, ctx, req } = r;
  const { config } = base;
  const { filePath, info } = file;
  const chosen = choice.ranked[0];
  if (chosen?.kind === "mirror") recordMirrorRedirect(env, ctx, { mirror: chosen.id, path: filePath, bytes: info.size ?? 0, req, status: config.redirectStatus });
  if (chosen) {
    const location = urlOf(chosen);
    const status = base.offloadStatus.get(chosen.id) ?? bypassStatus(config, `offload=${chosen.id}`);
    return redirectAnswer(config.redirectStatus, location, redirectFields(env, { path: filePath, location, choice, info, wantReprDigest }, extra, status));
  }
  const why = choice.selection.excluded.map((e) => `${e.target.id}: ${e.reason}`).join("; ");
  log.warn("base.no-healthy-target", { requestId: r.requestId(), worker: config.baseId, path: filePath, excluded: why });
  if (config.fallbackUrl) {
    const location = config.fallbackUrl + filePath + (query ? `?${query}` : "");
    return redirectAnswer(config.redirectStatus, location, withRedirectFields(extra(), location, bypassStatus(config, "fallback")));
  }
  return servedHere(r, "no-healthy-target", extra());
}

/**
 * Each target's URL for this file: same path and query, plus a signed token for our own
 * nodes. `query` is canonical and token-free (signing/token-query.ts): exactly what a node
 * keys on, so with CACHE_KEY_QUERY the token signs it and one token buys one cache key.
 */
function targetUrls(env: object, config: BaseConfig, signer: Loaded["signer"], file: { path: string; query: string; headers: Headers; now: number }): Soon<(t: TargetSpec) => string> {
  const { path, query, headers, now } = file;
  // Plain concatenation: target URLs were validated at config time, the path is canonical,
  // and a canonical query holds only characters a URI reference may (http/query.ts).
  const plainTail = path + (query ? `?${query}` : "");
  if (!signer) return (t) => t.url + plainTail;
  const claims: TokenClaims = { path, expires: Math.floor(now / 1000) + config.tokenTtlSeconds };
  if (config.signClient) claims.client = clientOf(headers).key;
  if (config.cacheKeyQuery) claims.query = query;
  return andThen(tokenFor(env, signer, claims), (token) => {
    const signedTail = `${path}?${withTokenMember(query, token)}`;
    // Mirrors are other people's servers: they get no token (and could not check it).
    return (t: TargetSpec) => t.url + (t.kind === "node" ? signedTail : plainTail);
  });
}

/** Tokens signed per env for one expiry second: the HMAC dominated a signed redirect's CPU (issue #13). */
const signedThisSecond = perIsolate((_env: object) => ({ expires: 0, tokens: new Map<string, string>() }));
/** Distinct files signed within one second beyond this are signed without being remembered. */
const MAX_TOKENS_PER_SECOND = 1000;

/**
 * A token is a function of its claims and key, so within one expiry second the same file
 * (path, query, client) gets the same bytes again without another HMAC; the memo holds
 * only the current second's tokens, so it never outlives them.
 */
function tokenFor(env: object, signer: NonNullable<Loaded["signer"]>, claims: TokenClaims): Soon<string> {
  const memo = signedThisSecond(env);
  if (memo.expires !== claims.expires) {
    memo.expires = claims.expires;
    memo.tokens.clear();
  }
  const id = `${claims.path}\n${claims.query ?? "(path only)"}\n${claims.client ?? ""}`;
  const known = memo.tokens.get(id);
  if (known !== undefined) return known;
  return signToken(signer.key, claims, signer.imported).then((token) => {
    // Still this second's memo (a later second cleared it and must not get this token).
    if (memo.expires === claims.expires && memo.tokens.size < MAX_TOKENS_PER_SECOND) memo.tokens.set(id, token);
    return token;
  });
}

/** `h`: the mirror metadata, taken over (its Link gives way to the document itself). */
function metalinkResponse(path: string, info: ObjectInfo, choice: TargetChoice, urlOf: (t: TargetSpec) => string, method: string, h: Headers): Response {
  const doc = buildMetalink4({
    name: path,
    size: info.size ?? 0,
    ...(info.sha256 ? { sha256Hex: info.sha256 } : {}),
    urls: choice.ranked.map((t, i) => ({ url: urlOf(t), priority: i + 1, ...(t.location?.country ? { location: t.location.country } : {}) })),
    generator: "edge-offload-cdn",
  });
  if (!doc.ok) return plain(503, `no metalink for ${path}: ${doc.reason}`);
  h.delete("link");
  h.set("content-type", METALINK_TYPE);
  h.set("cache-control", "private, no-store");
  h.set("vary", "accept");
  return new Response(method === "HEAD" ? null : doc.xml, { headers: h });
}
