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
import { canonicalRequestPath } from "../http/path";
import { plain, quoted } from "../http/plain";
import { clientOf } from "../limits/client-key";
import { acquireLease, holdWhileStreaming } from "../limits/lease";
import { healthView } from "../health/view";
import { importSigningKey, parseSigningKeys, signToken, type SigningKey } from "../signing/redirect-token";
import { partitionTokenQuery, withTokenMember } from "../signing/token-query";
import { objectDecision, requestDecision } from "./decide";
import { mirrorHeaders } from "./mirror-headers";
import { objectInfo, type ObjectInfo } from "./object-info";
import { serveLocally } from "./serve-locally";
import { backendHook, routeHooks, type RouteHooks } from "./routes";
import { parseProxyRoutes, type ProxyRoute } from "../config/proxy-config";
import { matchRoute } from "../proxy/match";
import { proxyRequest } from "../proxy/proxy";
import { chooseTargets, withCurrentMirrors, type TargetChoice } from "./targets";
import { parseFarmsConfig } from "../config/farms-config";
import { athBalance, athUpdate } from "../farms/ath-routes";
import { farmRanking } from "../farms/proxy-ranking";
import type { LoadedFarms } from "../farms/runtime";
import { parseAdminToken } from "../config/admin-config";
import { statsFlushSeconds } from "../config/stats-flush";
import { recordServed } from "../stats/recorder";

interface Loaded {
  config: BaseConfig;
  keys: SigningKey[];
  /** The first key, imported once for signing. */
  signer: { key: SigningKey; imported: Promise<CryptoKey> } | null;
  routes: ProxyRoute[];
  hooks: Map<ProxyRoute, RouteHooks>;
  farms: LoadedFarms;
  adminToken: string | null;
}
/** `path`: the request's canonical path and query, checked once by the first middleware. */
type BaseEnv = { Bindings: Env; Variables: { base: Loaded; path: { ok: true; path: string; query: string } } };

// Parsed once per env (isolate + deployment), with the ConfigError naming a bad field.
const load = perIsolate((env: object): Parsed<Loaded> =>
  parsed(() => {
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
    return { config, keys, signer, routes, hooks: new Map(routes.map((r) => [r, routeHooks(r)])), farms: { config: farmsConfig, cookieKeys: cookieKeys.keys }, adminToken: parseAdminToken(env as Record<string, unknown>) };
  }),
);

/**
 * mod_offload's base side: decides per request whether to send the client to an
 * offload node or mirror (307 with mirror metadata) or to serve it itself, streaming
 * from the origin as a transparent reverse proxy. `mounted`: apps of rooms above the
 * base (the admin, under /_admin), passed in by the wiring so that dependencies point
 * one way (docs/architecture.md). They run after the front checks (canonical path,
 * reserved spellings) and before the catch-all, and find the loaded config as `base`.
 */
export function offloadBase<M extends HonoEnv>(mounted: readonly Hono<M>[] = []): Hono<BaseEnv> {
  const app = new Hono<BaseEnv>();

  app.use("*", async (c, next) => {
    const l = load(c.env);
    if (!l.ok) return plain(500, l.error.message);
    c.set("base", l);
    // Route on the canonical path: Hono matches the raw one, so "//_admin" or
    // "/ath//update" would miss their routes and reach the catch-all (and the origin,
    // ATH_TOKEN and all). A reserved path is served only in its canonical spelling.
    // Servers that strip ";params" (Tomcat, Jetty) or ignore case (IIS) would read
    // "/ath;x/update" or "/ATH/update" as ours: those spellings are refused too.
    const path = canonicalRequestPath(c.req.url);
    if (!path.ok) return plain(path.status, `bad request path: ${path.reason}`);
    const reserved = reservedSpelling(path.path);
    if (reserved === "variant" || (reserved === "exact" && rawPath(c.req.url) !== path.path)) {
      return plain(400, `bad request path: reserved path (/_admin, /ath) in a non-canonical spelling`);
    }
    c.set("path", path);
    await next();
  });

  // The operator's page and API (before the catch-all, which would proxy or offload it).
  for (const sub of mounted) app.route("/", sub);

  // mod_athena: stats pushed by the members' agents, and query mode.
  app.get("/ath/update", (c) => athUpdate(c.get("base").farms, c.req.raw, c.env));
  for (const path of ["/ath/balance/", "/ath/balance"]) app.get(path, (c) => athBalance(c.get("base").farms, c.req.raw, c.env, c.executionCtx as unknown as ExecutionContext));
  app.all("/ath/*", () => plain(404, "no such /ath endpoint (GET /ath/update, GET /ath/balance/)"));

  app.all("*", async (c) => {
    const { config, signer, routes, hooks, farms } = c.get("base");
    const req = c.req.raw;
    const ctx = c.executionCtx as unknown as ExecutionContext;
    const path = c.get("path");
    // Defence in depth: the routes above own these; nothing under them goes to the origin.
    if (reservedSpelling(path.path)) return plain(404, `no such endpoint: ${quoted(path.path)}`);
    const url = new URL(req.url);
    // Only hosts from our configuration are ever named (issue #11 L3): without PUBLIC_URL,
    // "" makes every reference we build path-absolute (RFC 3986 §4.2), never the Host
    // the client sent.
    const publicOrigin = config.publicUrl ?? "";
    const target = path.path + (path.query ? `?${path.query}` : "");
    const local = { req, ctx, target, publicOrigin };

    // mod_proxy_core: a configured route sends the request to its backend pool instead.
    const route = matchRoute(routes, url.host, path.path);
    if (route) {
      const ranking = route.farm ? await farmRanking(farms, { ...route, farm: route.farm }, req, path.path, c.env, ctx) : undefined;
      return proxyRequest(route, req, ctx, c.env, publicOrigin, { onBackendResponse: backendHook(hooks.get(route)!, req, c.env, route), path, clientHost: url.host, ...(ranking ? { ranking } : {}) });
    }
    const status = (detail: string) => cacheStatus(config.baseId, { fwd: "bypass", detail });
    // Files the base serves itself are bytes from the origin in the offload totals.
    const counted = (res: Response) => {
      recordServed(c.env, ctx, path.path, res);
      return res;
    };

    const metalinkFile = (req.method === "GET" || req.method === "HEAD") && path.path.endsWith(".meta4") ? path.path.slice(0, -".meta4".length) : null;
    const filePath = metalinkFile ?? path.path;
    const byRequest = requestDecision(config, req.method, filePath, req.headers);
    if (!byRequest.offload) {
      if (metalinkFile) return serveLocally(config, local);
      return counted(await serveLocally(config, local, new Headers({ "cache-status": status(byRequest.reason) })));
    }
    const info = await objectInfo(config, c.env, filePath);
    const byObject = objectDecision(config, info);
    if (!byObject.offload) {
      if (metalinkFile) return serveLocally(config, local);
      return counted(await serveLocally(config, local, new Headers({ "cache-status": status(byObject.reason) })));
    }

    const health = await healthView(c.env, c.env.HEALTH.get(c.env.HEALTH.idFromName("registry")), ctx);
    const ranked = chooseTargets(c.env, config, filePath, health, req.cf as IncomingRequestCfProperties | undefined);
    const choice = withCurrentMirrors(ranked, { env: c.env, config, path: filePath, info: info!, ctx });
    // Every target URL (nodes, mirrors, fallback) carries the client's query without any
    // offload_token it sent: only the token we sign below ever reaches a node.
    const { query } = partitionTokenQuery(path.query);
    const urlOf = await targetUrls(config, signer, filePath, query, req.headers);
    const metalinkUrl = `${publicOrigin}${filePath}.meta4`;
    const extra = mirrorHeaders(choice.ranked, urlOf, info, metalinkUrl, req.headers.get("want-repr-digest"), config.maxLinks);

    if (metalinkFile || wantsMetalink(req.headers.get("accept"))) return metalinkResponse(filePath, info!, choice, urlOf, req.method, extra);

    // Threshold mode: serve it ourselves while fewer than OFFLOAD_WHEN_BUSY downloads are in flight.
    if (config.busyThreshold > 0 && req.method === "GET") {
      const gauge = c.env.BUSY.get(c.env.BUSY.idFromName("base-downloads"));
      const slot = await acquireLease(gauge, config.busyThreshold, config.leaseSeconds * 1000, ctx);
      if (slot.ok) {
        extra.set("cache-status", status("under-threshold"));
        return counted(holdWhileStreaming(slot.lease, await serveLocally(config, local, extra)));
      }
    }

    const chosen = choice.ranked[0];
    if (!chosen) {
      const why = choice.selection.excluded.map((e) => `${e.target.id}: ${e.reason}`).join("; ");
      console.log(JSON.stringify({ msg: "no healthy target", path: filePath, excluded: why }));
      if (config.fallbackUrl) return redirect(config, config.fallbackUrl + filePath + (query ? `?${query}` : ""), extra, cacheStatus(config.baseId, { fwd: "bypass", detail: "fallback" }));
      extra.set("cache-status", status("no-healthy-target"));
      return counted(await serveLocally(config, local, extra));
    }
    return redirect(config, urlOf(chosen), extra, cacheStatus(config.baseId, { fwd: "bypass", detail: `offload=${chosen.id}` }));
  });

  app.onError((err, c) => errorAnswer(err, "offload base", c.req.raw.headers));
  return app;
}

/**
 * Each target's URL for this file: same path and query, plus a signed token for our own
 * nodes. `query` is canonical and token-free (signing/token-query.ts): exactly what a node
 * keys on, so with CACHE_KEY_QUERY the token signs it and one token buys one cache key.
 */
async function targetUrls(config: BaseConfig, signer: Loaded["signer"], path: string, query: string, headers: Headers): Promise<(t: TargetSpec) => string> {
  // Plain concatenation: target URLs were validated at config time, the path is canonical,
  // and a canonical query holds only characters a URI reference may (http/query.ts).
  const plainTail = path + (query ? `?${query}` : "");
  let signedTail = plainTail;
  if (signer) {
    const claims = {
      path,
      expires: Math.floor(Date.now() / 1000) + config.tokenTtlSeconds,
      ...(config.signClient ? { client: clientOf(headers).key } : {}),
      ...(config.cacheKeyQuery ? { query } : {}),
    };
    signedTail = `${path}?${withTokenMember(query, await signToken(signer.key, claims, signer.imported))}`;
  }
  // Mirrors are other people's servers: they get no token (and could not check it).
  return (t) => t.url + (t.kind === "node" ? signedTail : plainTail);
}

/**
 * Whether a canonical path is under a control endpoint's prefix (/_admin, /ath): never
 * offloaded, proxied or passed to the origin. "exact": in our spelling; "variant": its
 * first segment is one of them once ";params" are cut and case is folded.
 */
function reservedSpelling(path: string): "exact" | "variant" | null {
  const end = path.indexOf("/", 1);
  const first = end < 0 ? path.slice(1) : path.slice(1, end);
  const name = first.split(";", 1)[0]!.toLowerCase();
  if (name !== "_admin" && name !== "ath") return null;
  return first === name ? "exact" : "variant";
}

/** The request's path exactly as sent (percent-encoding, repeated slashes and all). */
function rawPath(url: string): string {
  const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*([^?#]*)/.exec(url);
  return m?.[1] || "/";
}

function redirect(config: BaseConfig, location: string, h: Headers, status: string): Response {
  h.set("location", location);
  // The choice is per client and per moment: no shared cache may keep it (RFC 9111 §5.2.2.7).
  h.set("cache-control", "private, no-store");
  h.set("cache-status", status);
  h.set("content-type", "text/plain; charset=utf-8");
  return new Response(`redirecting to ${location}\n`, { status: config.redirectStatus, headers: h });
}

function metalinkResponse(path: string, info: ObjectInfo, choice: TargetChoice, urlOf: (t: TargetSpec) => string, method: string, extra: Headers): Response {
  const doc = buildMetalink4({
    name: path,
    size: info.size ?? 0,
    ...(info.sha256 ? { sha256Hex: info.sha256 } : {}),
    urls: choice.ranked.map((t, i) => ({ url: urlOf(t), priority: i + 1, ...(t.location?.country ? { location: t.location.country } : {}) })),
    generator: "edge-offload-cdn",
  });
  if (!doc.ok) return plain(503, `no metalink for ${path}: ${doc.reason}`);
  const h = new Headers(extra);
  h.delete("link");
  h.set("content-type", METALINK_TYPE);
  h.set("cache-control", "private, no-store");
  h.set("vary", "accept");
  return new Response(method === "HEAD" ? null : doc.xml, { headers: h });
}
