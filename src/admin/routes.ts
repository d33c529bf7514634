/**
 * /_admin: the operator's page (HTML) and the same data and actions as JSON under
 * /_admin/api (see README "Admin"). Everything needs ADMIN_TOKEN (session.ts); without
 * it the answer is 401 and a sign-in form, never data.
 */
import { Hono, type Context } from "hono";
import { deleteCookie, setCookie } from "hono/cookie";
import { createMiddleware } from "hono/factory";
import { secureHeaders } from "hono/secure-headers";
import type { BaseConfig } from "../config/base-config";
import type { FarmsConfig } from "../config/farms-config";
import { plain, quoted } from "../http/plain";
import { sameSecret } from "../auth/secret-token";
import { purgeObjects, setMemberState, type ActionResult } from "./actions";
import { changeMirror, MIRROR_STATE_OPS, mirrorFormBody, mirrorsData, type MirrorOp } from "./mirror-actions";
import { farmsData, healthData, statsData } from "./data";
import { metricsAnswer } from "./metrics";
import { csvAnswer } from "./csv-answer";
import { isStatsTable, STATS_TABLES, statsTable } from "./stats-tables";
import { clampQuery, DEFAULT_MINUTES, DEFAULT_TOP, MAX_TOP } from "../stats/summarize";
import { RETENTION_MINUTES } from "../stats/validate-batch";
import type { StatsSummary } from "../stats/types";
import { dashboardPage, loginPage } from "./page";
import { readForm, readJsonObject } from "./body";
import { authenticate, csrfProblem, csrfToken, foreignOrigin, newSession, SESSION_COOKIE, sessionCookie, type AdminAuth } from "./session";
import { closeSession, openSession, sessionIsOpen } from "./session-store";
import { signInLimiter } from "./signin-limiter";
import { audited } from "./audit";

export interface AdminDeps {
  config: BaseConfig;
  farms: { config: FarmsConfig };
  adminToken: string | null;
}
type AdminEnv = { Bindings: Env; Variables: { base: AdminDeps; auth: AdminAuth } };
type C = Context<AdminEnv>;

/**
 * Every /_admin answer's security headers. CSP: no script at all; styles are inline;
 * forms post only to us; never framed. Hono's other defaults stay off, so the headers are
 * the ones the admin always sent: its HSTS (with includeSubDomains) in particular would
 * bind the whole site this base fronts, not just the admin, to https.
 */
const adminSecurityHeaders = secureHeaders({
  contentSecurityPolicy: { defaultSrc: ["'none'"], styleSrc: ["'unsafe-inline'"], formAction: ["'self'"], frameAncestors: ["'none'"], baseUri: ["'none'"] },
  xContentTypeOptions: true,
  referrerPolicy: "same-origin",
  crossOriginResourcePolicy: false,
  crossOriginOpenerPolicy: false,
  originAgentCluster: false,
  strictTransportSecurity: false,
  xDnsPrefetchControl: false,
  xDownloadOptions: false,
  xFrameOptions: false,
  xPermittedCrossDomainPolicies: false,
  xXssProtection: false,
});

// Own code: no Hono middleware sets Cache-Control. Admin answers hold live state and
// credentials' results, so no cache may keep one (RFC 9111 §5.2.2.5).
const noStore = createMiddleware(async (c, next) => {
  await next();
  c.res.headers.set("cache-control", "no-store");
});

// The Prometheus scrape is API too: a scraper gets a plain 401, not the sign-in page.
const isApi = (c: C) => c.req.path.startsWith("/_admin/api/") || c.req.path === "/_admin/metrics";
const secure = (c: C) => new URL(c.req.url).protocol === "https:";
const token = (c: C) => c.get("base").adminToken!;

async function page(c: C, status: 200 | 401, body: Promise<string> | string, extra: Record<string, string> = {}): Promise<Response> {
  return c.html(await body, status, extra);
}

function unauthorized(c: C, message: string | null): Promise<Response> | Response {
  // Bearer, not Basic, in the challenge: Basic would make browsers pop up their own
  // dialog over the sign-in form. Basic credentials are still accepted.
  const challenge = { "www-authenticate": 'Bearer realm="offload-admin"' };
  if (isApi(c)) return plain(401, "authentication required: Authorization: Bearer <ADMIN_TOKEN>", challenge);
  return page(c, 401, loginPage(message) as Promise<string>, challenge);
}

/**
 * Counts one sign-in attempt of this client (signin-limiter.ts) and answers 429 with
 * Retry-After (RFC 6585 §4) while it is locked out; null: go on. One Durable Object round
 * trip per request that presents the token (login form, Bearer, Basic).
 */
async function tooManySignIns(c: C, ok: boolean): Promise<Response | null> {
  const verdict = await signInLimiter(c.env, c.req.raw.headers).attempt(ok);
  if (verdict.allowed) return null;
  const wait = verdict.retryAfterSeconds;
  return plain(429, `too many failed sign-ins from this client: try again in ${wait} s`, { "retry-after": String(wait) });
}

export function adminRoutes(): Hono<AdminEnv> {
  const app = new Hono<AdminEnv>();

  const adminOn = async (c: C, next: () => Promise<void>) => {
    if (!c.get("base").adminToken) return plain(503, "the admin is off: set the ADMIN_TOKEN secret to use it");
    await next();
  };
  // Sign-ins, refusals and every write as log lines (audit.ts), around all that follows.
  const auditing = (c: C, next: () => Promise<void>) => audited(c.req.raw, next, { answer: () => c.res, auth: () => c.get("auth"), worker: c.get("base").config.baseId });
  // "/_admin/*" also matches "/_admin" itself (Hono): one registration, one run.
  app.use("/_admin/*", adminSecurityHeaders, noStore, adminOn, auditing);

  app.get("/_admin/login", (c) => page(c, 200, loginPage(null) as Promise<string>));
  app.post("/_admin/login", async (c) => {
    const foreign = foreignOrigin(c.req.raw);
    if (foreign) return plain(403, `sign-in refused: ${foreign}`);
    const form = await readForm(c.req.raw);
    if (form instanceof Response) return form;
    const given = form.get("token") ?? "";
    const ok = given !== "" && (await sameSecret(given, token(c)));
    const limited = await tooManySignIns(c, ok);
    if (limited) return limited;
    if (!ok) return page(c, 401, loginPage("Wrong admin token.") as Promise<string>, { "www-authenticate": 'Bearer realm="offload-admin"' });
    const session = await newSession(token(c));
    await openSession(c.env, session.nonce, session.expires);
    setCookie(c, SESSION_COOKIE, session.value, sessionCookie(secure(c)));
    return c.redirect("/_admin", 303);
  });

  // Everything below needs a valid token or session. Own code, not hono/bearer-auth: one
  // token is taken as Bearer, Basic password or session cookie, every presented token is
  // counted by the sign-in limiter, and a browser gets the sign-in page, not a bare 401.
  const guard = async (c: C, next: () => Promise<void>) => {
    const auth = await authenticate(c.req.raw.headers, token(c));
    if (c.req.raw.headers.has("authorization")) {
      const limited = await tooManySignIns(c, auth !== null);
      if (limited) return limited;
    }
    if (!auth) return unauthorized(c, null);
    // A cookie with a valid MAC counts only while its session is open (signed out: closed).
    if (auth.kind === "session" && !(await sessionIsOpen(c.env, auth.seed))) return unauthorized(c, "Your session has ended. Sign in again.");
    c.set("auth", auth);
    await next();
  };
  app.use("/_admin/*", guard);

  const dashboard = async (c: C) => {
    const { config, farms } = c.get("base");
    // The window comes from the page's selector; a hand-edited value is clamped (1..2880), not refused.
    const { minutes, top } = clampQuery({ minutes: Number(c.req.query("minutes") ?? DEFAULT_MINUTES), top: DEFAULT_TOP });
    const [farmList, health, stats, csrf, mirrors] = await Promise.all([farmsData(farms.config, c.env), healthData(config, farms.config, c.env), statsData(c.env, minutes, top), csrfToken(token(c), c.get("auth")), mirrorsData(c.env, config)]);
    const done = c.req.query("done");
    const error = c.req.query("error");
    const flash = error ? { text: error.slice(0, 300), error: true } : done ? { text: done.slice(0, 300), error: false } : null;
    return page(c, 200, dashboardPage({ farms: farmList, health, stats, top, csrf, flash, now: Date.now(), mirrors }) as Promise<string>);
  };
  app.get("/_admin", dashboard);
  app.get("/_admin/", dashboard);

  // HTML forms: POST, CSRF-checked, then back to the page with a message (PRG).
  const form = async (c: C): Promise<Map<string, string> | Response> => {
    const fields = await readForm(c.req.raw);
    if (fields instanceof Response) return fields;
    const problem = await csrfProblem(c.req.raw, token(c), c.get("auth"), fields.get("csrf") ?? null);
    return problem ? plain(403, `refused: ${problem}`) : fields;
  };
  const back = (c: C, r: ActionResult<unknown>, done: string) => c.redirect(`/_admin?${new URLSearchParams(r.ok ? { done } : { error: r.reason })}`, 303);

  app.post("/_admin/members", async (c) => {
    const f = await form(c);
    if (f instanceof Response) return f;
    const r = await setMemberState(c.get("base").farms.config, c.env, f.get("farm") ?? "", f.get("member") ?? "", f.get("state") ?? "", `admin (${c.get("auth").kind})`);
    // A bad farm/member/state is the client's error: say so with its status, not a redirect.
    if (!r.ok) return plain(r.status, r.reason);
    return back(c, r, `${r.value.farm}/${r.value.member} is now ${r.value.state}`);
  });
  app.post("/_admin/purge", async (c) => {
    const f = await form(c);
    if (f instanceof Response) return f;
    const r = await purgeObjects(c.env.STORE, { path: f.get("path"), prefix: f.get("prefix") }, c.get("base").config.cloudflarePurge);
    if (!r.ok) return plain(r.status, r.reason);
    const v = r.value;
    const cdn = v.cloudflare ? (v.cloudflare.ok ? "; Cloudflare's cache purged too" : `; ${v.cloudflare.reason}`) : "";
    if ("prefix" in v) return back(c, r, `purged ${v.purged} ${v.purged === 1 ? "copy" : "copies"} under ${v.prefix}${v.more ? " (more remain: purge the prefix again)" : ""}${cdn}`);
    return back(c, r, `${v.stored ? `purged ${v.path} in every colo` : `${v.path} was not stored (colo pointers to it dropped all the same)`}${cdn}`);
  });
  // The mirror catalog's forms: a refusal is the client's error, answered with its status.
  const mirrorForm = async (c: C, op: (f: Map<string, string>) => MirrorOp | string, done: (op: MirrorOp) => string) => {
    const f = await form(c);
    if (f instanceof Response) return f;
    const o = op(f);
    if (typeof o === "string") return plain(400, o);
    const r = await changeMirror(c.env, c.get("base").config, `admin (${c.get("auth").kind})`, o);
    return r.ok ? c.redirect(`/_admin?${new URLSearchParams({ done: done(o) })}#mirrors`, 303) : plain(r.status, r.reason);
  };
  app.post("/_admin/mirrors", (c) => mirrorForm(c, (f) => ({ kind: "add", body: mirrorFormBody(f) }), () => "mirror added"));
  app.post("/_admin/mirrors/edit", (c) => mirrorForm(c, (f) => ({ kind: "edit", id: f.get("id") ?? "", patch: { ...mirrorFormBody(f), id: f.get("id") ?? "" } }), (o) => `mirror ${"id" in o ? o.id : ""} saved`));
  app.post("/_admin/mirrors/state", (c) =>
    mirrorForm(
      c,
      (f) => {
        const kind = f.get("op") ?? "";
        if (!(MIRROR_STATE_OPS as readonly string[]).includes(kind)) return `op: must be one of ${MIRROR_STATE_OPS.join(", ")}`;
        return { kind: kind as (typeof MIRROR_STATE_OPS)[number], id: f.get("id") ?? "" };
      },
      (o) => `mirror ${"id" in o ? o.id : ""}: ${o.kind} done`,
    ),
  );
  app.post("/_admin/logout", async (c) => {
    const f = await form(c);
    if (f instanceof Response) return f;
    // The cookie is dropped by the browser and, for anyone who kept a copy, closed here.
    const auth = c.get("auth");
    if (auth.kind === "session") await closeSession(c.env, auth.seed);
    deleteCookie(c, SESSION_COOKIE, sessionCookie(secure(c)));
    return c.redirect("/_admin/login", 303);
  });

  registerApi(app);
  app.all("/_admin/*", () => plain(404, "no such admin page or API (see README \"Admin\")"));
  return app;
}

function registerApi(app: Hono<AdminEnv>): void {
  const json = (c: C, body: unknown) => c.json(body);
  const result = (c: C, r: ActionResult<unknown>) => (r.ok ? json(c, r.value) : plain(r.status, r.reason));
  const jsonBody = async (c: C): Promise<Record<string, unknown> | Response> => {
    // Credentials a browser adds by itself (session cookie, cached Basic) get the forms'
    // Origin check too; a bearer token is only ever sent on purpose.
    const foreign = c.get("auth").kind === "bearer" ? null : foreignOrigin(c.req.raw);
    if (foreign) return plain(403, `refused: ${foreign}`);
    return readJsonObject(c.req.raw);
  };

  app.get("/_admin/api/farms", async (c) => json(c, { farms: await farmsData(c.get("base").farms.config, c.env) }));
  app.get("/_admin/api/farms/:farm", async (c) => {
    const farm = (await farmsData(c.get("base").farms.config, c.env)).find((f) => f.name === c.req.param("farm"));
    return farm ? json(c, farm) : plain(404, `unknown farm ${quoted(c.req.param("farm"))}`);
  });
  app.post("/_admin/api/farms/:farm/members/:member", async (c) => {
    const body = await jsonBody(c);
    if (body instanceof Response) return body;
    const state = typeof body["state"] === "string" ? body["state"] : "";
    return result(c, await setMemberState(c.get("base").farms.config, c.env, c.req.param("farm"), c.req.param("member"), state, `api (${c.get("auth").kind})`));
  });
  app.get("/_admin/metrics", (c) => metricsAnswer(c.env, { config: c.get("base").config, farms: c.get("base").farms.config }));
  app.get("/_admin/api/health", async (c) => json(c, await healthData(c.get("base").config, c.get("base").farms.config, c.env)));
  // Scripts get a 400 naming the parameter (the page clamps instead).
  const statsFor = async (c: C): Promise<StatsSummary | Response> => {
    const minutes = Number(c.req.query("minutes") ?? DEFAULT_MINUTES);
    const top = Number(c.req.query("top") ?? DEFAULT_TOP);
    if (!Number.isInteger(minutes) || minutes < 1 || minutes > RETENTION_MINUTES) return plain(400, `minutes must be a whole number from 1 to ${RETENTION_MINUTES}`);
    if (!Number.isInteger(top) || top < 1 || top > MAX_TOP) return plain(400, `top must be a whole number from 1 to ${MAX_TOP}`);
    return (await statsData(c.env, minutes, top)) ?? plain(503, "offload statistics are unavailable (no STATS binding, or it did not answer)");
  };
  app.get("/_admin/api/stats", async (c) => {
    const stats = await statsFor(c);
    return stats instanceof Response ? stats : json(c, stats);
  });
  // The admin page's tables as CSV (stats-tables.ts: the same numbers the page shows).
  app.get("/_admin/api/stats/:file", async (c) => {
    const file = c.req.param("file");
    const name = file.endsWith(".csv") ? file.slice(0, -4) : "";
    if (!isStatsTable(name)) return plain(404, `unknown stats table ${quoted(file)}: one of ${STATS_TABLES.map((t) => `${t}.csv`).join(", ")}`);
    const stats = await statsFor(c);
    return stats instanceof Response ? stats : csvAnswer(statsTable(stats, name), stats.windowMinutes);
  });
  registerMirrorApi(app, jsonBody);
  app.post("/_admin/api/purge", async (c) => {
    const body = await jsonBody(c);
    if (body instanceof Response) return body;
    return result(c, await purgeObjects(c.env.STORE, { path: body["path"], prefix: body["prefix"] }, c.get("base").config.cloudflarePurge));
  });
}

/** GET/POST /_admin/api/mirrors, GET/PATCH/DELETE /_admin/api/mirrors/:id, POST /_admin/api/mirrors/:id/{enable,disable,rescan}. */
function registerMirrorApi(app: Hono<AdminEnv>, jsonBody: (c: C) => Promise<Record<string, unknown> | Response>): void {
  const run = async (c: C, op: MirrorOp, status: 200 | 201 = 200) => {
    const r = await changeMirror(c.env, c.get("base").config, `admin (${c.get("auth").kind})`, op);
    return r.ok ? c.json(r.value, status) : plain(r.status, r.reason);
  };
  // Writes without a body still get the Origin check of browser-sent credentials.
  const notForeign = (c: C) => {
    const foreign = c.get("auth").kind === "bearer" ? null : foreignOrigin(c.req.raw);
    return foreign ? plain(403, `refused: ${foreign}`) : null;
  };
  app.get("/_admin/api/mirrors", async (c) => c.json(await mirrorsData(c.env, c.get("base").config)));
  app.post("/_admin/api/mirrors", async (c) => {
    const body = await jsonBody(c);
    return body instanceof Response ? body : run(c, { kind: "add", body }, 201);
  });
  app.get("/_admin/api/mirrors/:id", async (c) => {
    const m = (await mirrorsData(c.env, c.get("base").config)).mirrors.find((x) => x.id === c.req.param("id"));
    return m ? c.json(m) : plain(404, `unknown mirror ${quoted(c.req.param("id"))}`);
  });
  app.patch("/_admin/api/mirrors/:id", async (c) => {
    const body = await jsonBody(c);
    return body instanceof Response ? body : run(c, { kind: "edit", id: c.req.param("id"), patch: body });
  });
  app.delete("/_admin/api/mirrors/:id", (c) => notForeign(c) ?? run(c, { kind: "delete", id: c.req.param("id") }));
  for (const op of ["enable", "disable", "rescan"] as const) {
    app.post(`/_admin/api/mirrors/:id/${op}`, (c) => notForeign(c) ?? run(c, { kind: op, id: c.req.param("id") }));
  }
}
