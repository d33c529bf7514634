/**
 * mod_offload's base, for a request no reserved path or proxy route took (app.ts): the
 * request's and the file's rules decide, then an offloadable file gets a redirect to the
 * best current target (or a Metalink, a mirror page, the base itself while under
 * OFFLOAD_WHEN_BUSY); any other is served from the origin. Once the isolate holds what a
 * redirect needs, the answer is built without a promise (platform/soon.ts, issue #13).
 */
import { perIsolate } from "../platform/per-isolate";
import type { BaseConfig } from "../config/base-config";
import type { TargetSpec } from "../config/targets";
import { buildMetalink4, METALINK_TYPE, wantsMetalink } from "../http/metalink";
import { plain } from "../http/plain";
import { clientOf, clientOfAnswer } from "../limits/client-key";
import { acquireLease, holdWhileStreaming } from "../limits/lease";
import { healthView } from "../health/view";
import { signToken, type TokenClaims } from "../signing/redirect-token";
import { partitionTokenQuery, withTokenMember } from "../signing/token-query";
import { objectDecision, requestDecision } from "./decide";
import { mirrorHeaders } from "./mirror-headers";
import { redirectAnswer, redirectFields, withRedirectFields } from "./redirect";
import { askedPage, mirrorListAnswer, notOffloadedPage, originHasOwn, sha256Answer, type PageAsk } from "./mirror-pages";
import { objectInfo, type ObjectInfo } from "./object-info";
import { serveLocally, type LocalRequest } from "./serve-locally";
import { chooseTargets, withCurrentMirrors, type TargetChoice } from "./targets";
import { catalogView } from "../mirrors/catalog-view";
import { recordMirrorRedirect, recordServed, type ServedAnswer } from "../stats/recorder";
import { log } from "../platform/log";
import { andThen, type Soon } from "../platform/soon";
import type { HealthRecord } from "../health/registry";
import type { Catalog } from "../mirrors/catalog";
import { bypassStatus, publicOriginOf, type BaseRequest, type Loaded } from "./base-request";

/** mod_offload's base: the request's and the file's rules decide; offloaded files get a redirect (or a Metalink, or a mirror page). */
export function offloadOrServe(r: BaseRequest): Soon<Response> {
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
  const { base, env, ctx } = r;
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
  const wantReprDigest = headers.get("want-repr-digest");
  // Made for each answer that sends it (a redirect may take its fields from redirectFields).
  const extra = () => mirrorHeaders({ ranked: choice.ranked, urlOf, info, metalinkUrl: `${publicOriginOf(config)}${filePath}.meta4`, wantReprDigest, maxLinks: config.maxLinks });

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
