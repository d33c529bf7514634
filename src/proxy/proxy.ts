/**
 * lighttpd mod_proxy_core for the base: one request through a route's backend pool.
 *
 *   route = matchRoute(routes, url.host, canonicalPath)    // match.ts
 *   return proxyRequest(route, req, ctx, env, publicOrigin) // here
 *
 * The balancer ranks the backends (pool.ts); the request goes to the first, with its
 * headers forwarded (src/http/forwarding.ts, the policy the base's own pass-through to
 * the origin uses too) and rewritten (rewrite.ts), bodies streamed both
 * ways. When the attempt cannot connect or the backend stays silent for route.timeoutMs
 * (connecting, taking the upload, answering after the whole body) before any byte reached
 * the client, the backend is marked down (failover.ts) and, for idempotent requests
 * without a body, the next ranked backend is tried, up to route.retries times. A fault of
 * the client's upload (stalled for route.clientBodyTimeoutMs: 408; broken off, shorter or
 * longer than announced: 400) is the client's answer and touches no backend's health.
 * When no backend answered: 307 to the fallback URL (the farm's, else the route's), else
 * 502 (504 when every failure was a timeout) with a generic body and a request id; which
 * backend failed how is in the log line with that id (and in the registries' reports).
 *
 * X-Sendfile / X-Accel-Redirect are left in the response: the caller (or the
 * onBackendResponse hook) decides what they mean, or has them removed with the
 * hop-by-hop fields (options.hidden) when nothing reads them.
 *
 * Per request, every call into the runtime's Headers costs more than the JavaScript
 * around it (measured under callgrind, issue #13: a keys() pass ~25k instructions, a
 * get/set/delete ~5k, each forwarding field ~20k more to send): one keys() pass over the
 * backend's fields says whether anything must change; only then are they copied, once
 * (the Response made from them), and edited in place.
 */
import type { ProxyBackend, ProxyRoute } from "../config/proxy-config";
import { canonicalRequestPath, type PathResult } from "../http/path";
import { plain } from "../http/plain";
import { lazyRequestId, opaqueError, REQUEST_ID_HEADER } from "../http/request-id";
import { rewriteLocation } from "../http/location";
import { onBodyEnd } from "./body";
import { fetchUpstream, sendsBody, type UpstreamAnswer } from "./upstream-fetch";
import { beginAttempt, passiveMarks, recordFailure, recordSuccess, releaseTrial, reportPassive, retryBlocker, type FailureKind } from "./failover";
import { toDownstream, upstreamHeaders } from "../http/forwarding";
import { connectionOptions, isHopByHop } from "../http/hop-by-hop";
import { routeCovers } from "./match";
import { holdInFlight, rankBackends } from "./pool";
import { rewriteRequest, rewriteResponse } from "./rewrite";
import { log } from "../platform/log";

export interface ProxyOptions {
  /**
   * Called with the response on its way to the client (hop-by-hop fields stripped,
   * rewrites applied, X-Sendfile kept) and the backend that gave it; its result is
   * returned instead. The plug-in point for sendfile and throttling.
   */
  onBackendResponse?: (res: Response, backend: ProxyBackend) => Promise<Response>;
  /**
   * Fields of the backend's answer the client never sees, removed with the hop-by-hop
   * ones (lowercase): the caller's control fields when no hook reads them.
   */
  hidden?: ReadonlySet<string>;
  /** canonicalRequestPath(req.url), when the caller already has it. */
  path?: PathResult;
  /** The request URL's host, when the caller already parsed it. */
  clientHost?: string;
  /** The backends already ranked by someone else (a farm route: src/farms/proxy-ranking.ts). */
  ranking?: Ranking;
}

/** A pool's preference order for one request, and where its failures are reported. */
export interface Ranking {
  ranked: ProxyBackend[];
  excluded: { id: string; url: string; reason: string }[];
  fallbackUrl: string | null;
  /** A failure, or a marked backend answering again; default: the base's HealthRegistry. */
  report?: (backend: ProxyBackend, ok: boolean, detail: string) => void;
}

/** A plain route's ranking: the route's balancer over its backends, failures to the HealthRegistry. */
function routeRanking(env: object, route: ProxyRoute, path: string): Ranking {
  const { ranked, selection } = rankBackends(env, route, path, Date.now());
  return { ranked, excluded: selection.excluded.map((e) => ({ id: e.target.id, url: e.target.url, reason: e.reason })), fallbackUrl: route.fallbackUrl };
}

const NULL_BODY = new Set([101, 204, 205, 304]);
const LOAD_AWARE = new Set<string>(["fair", "least-loaded", "p2c", "bounded-hash"]);

type Attempt = UpstreamAnswer;

export async function proxyRequest(route: ProxyRoute, req: Request, ctx: ExecutionContext, env: object, publicOrigin: string, options: ProxyOptions = {}): Promise<Response> {
  const name = `proxy route ${route.host ?? ""}${route.prefix}`;
  // Only an error answer or a log line needs the id: made on first use.
  const id = lazyRequestId(req.headers);
  // The canonical path, not the raw one: "/app/../admin" must not leave the route's prefix.
  const path = options.path ?? canonicalRequestPath(req.url);
  if (!path.ok) return plain(path.status, `bad request path: ${path.reason}`);
  // matchRoute chose the route for this canonical path; anything else is a caller's mistake.
  if (!routeCovers(route, path.path)) return plain(404, `${name} does not serve ${path.path}`);
  const target = path.path + (path.query ? `?${path.query}` : "");
  const forwarded = upstreamHeaders(req.headers, { publicOrigin, trustedProxies: route.trustedProxies, forwarded: route.forwarded });
  // Only request rules read the client's host: no URL parse per request without them.
  const clientHost = route.rewriteRequest.length > 0 ? (options.clientHost ?? new URL(req.url).host) : "";
  const upstream = rewriteRequest(route.rewriteRequest, target, clientHost, forwarded);
  // A Host header is only honoured by Cloudflare for hosts of the zone (workerd never
  // honours it): elsewhere the backend sees its URL's host, the public one in X-Forwarded-Host.
  if (upstream.host !== null) upstream.headers.set("host", upstream.host);

  const blocker = retryBlocker(req.method, sendsBody(req));
  const maxAttempts = blocker ? 1 : 1 + route.retries;
  const { ranked, excluded, fallbackUrl, report = (b: ProxyBackend, ok: boolean, detail: string) => reportPassive(env, ctx, b.url, ok, detail) } = options.ranking ?? routeRanking(env, route, path.path);
  const failures: { backend: ProxyBackend; kind: FailureKind; detail: string }[] = [];
  let attempts = 0;

  for (const backend of ranked) {
    if (attempts >= maxAttempts) break;
    // Another request may have marked it, or taken its half-open trial, since ranking.
    if (!beginAttempt(env, backend.url, Date.now())) continue;
    attempts += 1;
    const release = holdInFlight(env, backend.url);
    const result = await attempt(route, req, ctx, backend, upstream.target, upstream.headers);
    if (result.ok) {
      if (recordSuccess(env, backend.url)) report(backend, true, "answered again");
      const res = respond(route, result.res, { backend, publicOrigin, release, ctx, hidden: options.hidden });
      if (!options.onBackendResponse) return res;
      try {
        return await options.onBackendResponse(res, backend);
      } catch (e) {
        // Nobody will read this body now: cancel it, which also ends its in-flight count.
        await res.body?.cancel(e).catch(() => {});
        throw e;
      }
    }
    release();
    if (result.kind === "client") {
      // Neither a failure nor a success of the backend: its trial (if this was one) goes back.
      releaseTrial(env, backend.url);
      return plain(result.status, `${name}: ${result.detail}`, { [REQUEST_ID_HEADER]: id() });
    }
    const mark = recordFailure(env, backend.url, result.kind, result.detail, Date.now());
    log.warn("proxy.backend-failed", { requestId: id(), route: route.field, backend: backend.id, url: backend.url, kind: result.kind, detail: result.detail, failures: mark.failures, backoffMs: mark.downUntil - Date.now() });
    report(backend, false, result.detail);
    failures.push({ backend, kind: result.kind, detail: result.detail });
  }

  if (fallbackUrl) {
    const location = fallbackUrl + target;
    return new Response(`no backend of ${name} answered; redirecting to ${location}\n`, {
      status: 307,
      headers: { location, "cache-control": "private, no-store", "content-type": "text/plain; charset=utf-8" },
    });
  }
  const marks = passiveMarks(env);
  const skipped = excluded.map((e) => ({ id: e.id, reason: e.reason, kind: marks.get(e.url)?.kind }));
  const reasons = [...failures.map((f) => `${f.backend.id}: ${f.detail}`), ...skipped.map((s) => `${s.id}: ${s.reason}`)];
  const kinds = [...failures.map((f) => f.kind), ...skipped.map((s) => s.kind)];
  const status = kinds.length > 0 && kinds.every((k) => k === "timeout") ? 504 : 502;
  const notRetried = blocker && failures.length > 0 && ranked.length > 1 ? `; not retried: ${blocker}` : "";
  const what = failures.length > 0 ? "no backend answered" : "every backend is marked down";
  // Backend addresses and runtime errors stay in the log (and the admin's registry view).
  log.error("proxy.route-failed", { requestId: id(), route: route.field, status, what, reasons: reasons.length ? reasons : ["each one's half-open trial is taken by another request"] });
  return opaqueError(status, `${name}: ${what}${notRetried}`, id());
}

/**
 * One try at one backend: route.timeoutMs limits the backend's silence only, never the
 * wait for a chunk of the client's upload (route.clientBodyTimeoutMs), see upstream-fetch.ts.
 */
function attempt(route: ProxyRoute, req: Request, ctx: ExecutionContext, backend: ProxyBackend, target: string, headers: Headers): Promise<Attempt> {
  return fetchUpstream(backend.url + target, req, headers, { timeoutMs: route.timeoutMs, clientBodyTimeoutMs: route.clientBodyTimeoutMs, ctx });
}

interface Delivery {
  backend: ProxyBackend;
  publicOrigin: string;
  /** Ends the request's in-flight count. */
  release: () => void;
  ctx: ExecutionContext;
  hidden: ReadonlySet<string> | undefined;
}

/** The backend's answer as the client gets it; the body counts as in flight until it ends. */
function respond(route: ProxyRoute, res: Response, d: Delivery): Response {
  // 204/205/304 (and 1xx) cannot carry a body, whatever the backend sent (RFC 9110 §15.3.5, §15.4.5).
  const dropBody = res.body !== null && NULL_BODY.has(res.status);
  // Usually nothing needs changing (no hop-by-hop or hidden field, no Location, no response
  // rules): the backend's answer then goes out as it is, as a bare fetch() would return it,
  // without a native copy of the Response and its fields (issue #13).
  const out = dropBody || route.rewriteResponse.length > 0 || needsEdit(res.headers, d.hidden) ? edited(route, res, d, dropBody) : res;
  // Only load-aware balancers read in-flight counts: others need no end-of-body hook, and
  // the backend's body then streams natively (no pipe through a FixedLengthStream).
  if (!LOAD_AWARE.has(route.balancer)) {
    d.release();
    return out;
  }
  return onBodyEnd(out, d.release, d.ctx);
}

/**
 * One pass over the field names: does a field go (hop-by-hop, hidden), or is there a
 * Location to rewrite? Except `Connection: keep-alive` and Keep-Alive, which every
 * keep-alive backend sends (Node's http does on each answer): the runtime's HTTP server
 * never passes a worker's Connection or Keep-Alive on to the client (it runs its own
 * connection; checked in workerd, and HTTP/2 and /3 forbid them outright), so copying the
 * answer only to delete those two is wasted work. A Connection naming anything else
 * (connectionOptions, as dropHopByHop reads it) still takes the edit path, which removes
 * the fields it names.
 */
function needsEdit(headers: Headers, hidden: ReadonlySet<string> | undefined): boolean {
  let connection = false;
  for (const name of headers.keys()) {
    if (name === "connection") connection = true;
    else if (name === "location" || (name === "keep-alive" ? hidden?.has(name) : isHopByHop(name, hidden))) return true;
  }
  return connection && connectionOptions(headers).some((option) => option !== "keep-alive");
}

/** The backend's answer with its fields edited for the client. */
function edited(route: ProxyRoute, res: Response, d: Delivery, dropBody: boolean): Response {
  // A Response as init copies status, statusText and headers: one native copy of the
  // fields (the backend's are immutable), edited in place below.
  const out = new Response(dropBody ? null : res.body, res);
  toDownstream(out.headers, d.hidden);
  rewriteResponse(route.rewriteResponse, out.headers, (loc) => rewriteLocation(loc, d.backend.url, d.publicOrigin));
  return out;
}
