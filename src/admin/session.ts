/**
 * Who may use /_admin, and CSRF protection for its forms.
 *
 * ADMIN_TOKEN is the one secret. It is accepted as a bearer token or a Basic password
 * (scripts, curl), or exchanged once on the login form for a session cookie:
 *
 *     offload_admin=<nonce>.<expires>.<mac>     mac = HMAC(ADMIN_TOKEN, "admin-session/v1\n" + nonce + "\n" + expires)
 *
 * Our own format, not Hono's signed cookie (value + "." + base64 HMAC of the value alone):
 * sessions signed in now must keep working, and the MAC here also covers the expiry and
 * a purpose label. Hono reads and writes the cookie itself (http/cookie.ts, setCookie).
 * HttpOnly, SameSite=Strict, Path=/_admin, Secure over https. Changing ADMIN_TOKEN ends
 * every session; signing out ends one (the cookie also has to name a session that is
 * open server-side: session-store.ts). Browsers send cookies and Basic credentials by themselves, so every
 * form carries a CSRF token bound to the session (HMAC of its nonce; of "basic" under
 * Basic auth) and a cross-origin Origin header is refused (OWASP's synchroniser token
 * plus origin check). Bearer requests are never sent by a browser on its own and need
 * neither; JSON API writes need `Content-Type: application/json`, which a cross-site
 * form cannot send without a CORS preflight we never grant, and under a session or Basic
 * credentials (which a browser adds by itself) the same Origin check as the forms.
 */
import { presentedToken, sameSecret } from "../auth/secret-token";
import { hmacBase64url } from "../auth/hmac";
import type { CookieOptions } from "hono/utils/cookie";
import { cookieValue } from "../http/cookie";
import { quoted } from "../http/plain";

export const SESSION_COOKIE = "offload_admin";
const SESSION_SECONDS = 8 * 3600;

export interface AdminAuth {
  kind: "bearer" | "basic" | "session";
  /** What the CSRF token is bound to. */
  seed: string;
}

export async function authenticate(headers: Headers, adminToken: string, now = Date.now()): Promise<AdminAuth | null> {
  const auth = headers.get("authorization");
  if (auth) {
    if (!(await sameSecret(presentedToken(headers), adminToken))) return null;
    return { kind: /^bearer /i.test(auth) ? "bearer" : "basic", seed: "basic" };
  }
  const parts = cookieValue(headers.get("cookie"), SESSION_COOKIE)?.split(".") ?? [];
  if (parts.length !== 3) return null;
  const [nonce, expires, mac] = parts as [string, string, string];
  if (!/^[A-Za-z0-9_-]{16,64}$/.test(nonce) || !/^\d{1,15}$/.test(expires) || Number(expires) * 1000 <= now) return null;
  const expected = await hmacBase64url(adminToken, `admin-session/v1\n${nonce}\n${expires}`);
  return (await sameSecret(mac, expected)) ? { kind: "session", seed: nonce } : null;
}

export interface NewSession {
  /** The cookie's value (set with sessionCookie's attributes). */
  value: string;
  nonce: string;
  /** Milliseconds since the epoch: when the session-store object forgets it. */
  expires: number;
}

/** A new session: its cookie value, and what the session store records. */
export async function newSession(adminToken: string, now = Date.now()): Promise<NewSession> {
  const nonce = [...crypto.getRandomValues(new Uint8Array(18))].map((b) => b.toString(16).padStart(2, "0")).join("");
  const expires = Math.floor(now / 1000) + SESSION_SECONDS;
  const mac = await hmacBase64url(adminToken, `admin-session/v1\n${nonce}\n${expires}`);
  return { value: `${nonce}.${expires}.${mac}`, nonce, expires: expires * 1000 };
}

/** The session cookie's attributes, for setting it (signing in) and dropping it (signing out: Max-Age=0). */
export function sessionCookie(secure: boolean): CookieOptions {
  return { path: "/_admin", maxAge: SESSION_SECONDS, httpOnly: true, sameSite: "Strict", secure };
}

export function csrfToken(adminToken: string, auth: AdminAuth): Promise<string> {
  return hmacBase64url(adminToken, `admin-csrf/v1\n${auth.seed}`);
}

/**
 * Why a write a browser may have sent on its own must be refused, or null: an Origin
 * header (RFC 6454 §7; browsers send it on every POST) naming another origin, "null"
 * included. A missing Origin is allowed: non-browser clients do not send one. Own code,
 * not hono/csrf: that refuses form posts without Origin (curl with Basic credentials)
 * and looks only at form types, while JSON writes under a cookie need the check too.
 */
export function foreignOrigin(req: Request): string | null {
  const origin = req.headers.get("origin");
  return origin !== null && origin !== new URL(req.url).origin ? `cross-origin request from ${quoted(origin)}` : null;
}

/** Why a form post must be refused, or null: a foreign Origin, or a missing/wrong CSRF token. */
export async function csrfProblem(req: Request, adminToken: string, auth: AdminAuth, presented: string | null): Promise<string | null> {
  const foreign = foreignOrigin(req);
  if (foreign) return foreign;
  if (auth.kind === "bearer") return null;
  return (await sameSecret(presented, await csrfToken(adminToken, auth))) ? null : "missing or wrong CSRF token (reload the page and try again)";
}
