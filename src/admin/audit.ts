/**
 * The admin's log lines (README "Logs"): who did what to what, and who was refused.
 *
 * - `admin.signin` / `admin.signin-refused` / `admin.signin-limited`: the login form's
 *   outcome (a session opened, a wrong token or foreign Origin, the sign-in limiter's 429).
 * - `admin.auth-refused` / `admin.signin-limited`: a request presenting credentials
 *   (Bearer, Basic, the session cookie) that were wrong, ended or rate-limited, or a write
 *   presenting none. A read presenting none (a browser opening /_admin) is no news.
 * - `admin.action`: every write (POST, PATCH, DELETE) past the sign-in, with `by` (how the
 *   operator signed in: session, bearer or basic; never the token or cookie), the method
 *   and path, the fields sent (short values only; credential-named ones redacted by the
 *   log helper) and the outcome: the status and what the page or API said.
 *
 * One middleware around the routes, reading only copies: a body is read by its route
 * once, as always (body.ts), and the copy here only after the route answered.
 */
import { requestId } from "../http/request-id";
import { parseUrlencoded } from "../http/form-body";
import { log } from "../platform/log";
import { MAX_ADMIN_BODY } from "./body";
import { SESSION_COOKIE, type AdminAuth } from "./session";
import { cookieValue } from "../http/cookie";

/** A field's value is logged up to this length: names and paths, not documents. */
const MAX_FIELD = 200;

/**
 * Runs the route (`next`, which leaves its answer in `answer()`) and logs what the
 * request was worth a line for. `auth`: how the request signed in, once the guard set it.
 */
export async function audited(req: Request, next: () => Promise<void>, got: { answer: () => Response; auth: () => AdminAuth | undefined; worker: string }): Promise<void> {
  const write = req.method !== "GET" && req.method !== "HEAD";
  const signIn = req.method === "POST" && new URL(req.url).pathname === "/_admin/login";
  // The copy is taken before the route reads the body; the login form's (the token) never.
  const copy = write && !signIn && small(req) ? req.clone() : null;
  await next();
  const res = got.answer();
  const auth = got.auth();
  const base = { requestId: requestId(req.headers), worker: got.worker, method: req.method, path: new URL(req.url).pathname, status: res.status };
  if (res.status === 429) return log.warn("admin.signin-limited", { ...base, retryAfter: res.headers.get("retry-after") });
  if (signIn) {
    if (res.status === 303) log.info("admin.signin", { ...base, by: "session" });
    else if (res.status === 401 || res.status === 403) log.warn("admin.signin-refused", { ...base, reason: res.status === 401 ? "wrong admin token" : await said(res) });
    return;
  }
  const presented = presentedKind(req.headers);
  // Wrong or ended credentials, or a write with none: a browser opening the page without is no news.
  if (!auth && (presented || write) && (res.status === 401 || res.status === 403)) return log.warn("admin.auth-refused", { ...base, presented: presented ?? "none" });
  if (!auth || !write) return;
  const fields = copy ? await sentFields(copy) : null;
  log.info("admin.action", { ...base, by: auth.kind, ...(fields ? { fields } : {}), outcome: await outcome(res) });
}

function small(req: Request): boolean {
  const length = Number(req.headers.get("content-length") ?? MAX_ADMIN_BODY + 1);
  return Number.isFinite(length) && length <= MAX_ADMIN_BODY;
}

/** Which credentials the request carried, by kind only. */
function presentedKind(headers: Headers): string | null {
  const authorization = headers.get("authorization");
  if (authorization) return /^bearer /i.test(authorization) ? "bearer" : "basic";
  return cookieValue(headers.get("cookie"), SESSION_COOKIE) !== null ? "session" : null;
}

/** The sent fields with short text values: JSON members or an urlencoded form's fields. */
async function sentFields(copy: Request): Promise<Record<string, unknown> | null> {
  const type = copy.headers.get("content-type") ?? "";
  let text: string;
  try {
    text = await copy.text();
  } catch {
    return null;
  }
  const out: Record<string, unknown> = {};
  if (/^application\/json/i.test(type)) {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return null;
    }
    if (body === null || typeof body !== "object" || Array.isArray(body)) return null;
    for (const [k, v] of Object.entries(body)) if (v === null || ["string", "number", "boolean"].includes(typeof v)) out[k] = clip(v);
  } else if (/^application\/x-www-form-urlencoded/i.test(type)) {
    const form = parseUrlencoded(text);
    if (!form.ok) return null;
    for (const [k, v] of form.value) out[k] = clip(v);
  } else return null;
  return out;
}

function clip(v: unknown): unknown {
  return typeof v === "string" && v.length > MAX_FIELD ? `${v.slice(0, MAX_FIELD)}…` : v;
}

/** What the operator was told: a form's done/error message (its redirect), or a refusal's plain text. */
async function outcome(res: Response): Promise<string | null> {
  const location = res.headers.get("location");
  if (location !== null) {
    const q = new URL(location, "http://admin.invalid").searchParams;
    return q.get("done") ?? q.get("error") ?? `redirect to ${location.split("?")[0]}`;
  }
  return res.ok ? null : said(res);
}

/** The first line of a plain-text answer. */
async function said(res: Response): Promise<string | null> {
  if (!/^text\/plain/i.test(res.headers.get("content-type") ?? "")) return null;
  const text = await res.clone().text();
  return clip(text.split("\n", 1)[0]) as string;
}
