// Issue #11 L8 (sign-out revokes the session server-side, storage bounded by the session
// lifetime) and "Tokens" (cookie-authenticated JSON writes check Origin like the forms).
import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { newSession } from "../../../src/admin/session";
import type { AdminSession } from "../../../src/admin/session-store";
import { baseFetch, baseWithVars } from "../support";

const TOKEN = "admin-test-token-0123456789";
const bearer = { authorization: `Bearer ${TOKEN}` };
const basicAuth = { authorization: `Basic ${btoa(`ops:${TOKEN}`)}` };
const SAME = "http://base.test";
const sessions = (env as unknown as Env).ADMIN_SESSIONS;
const sessionObject = (nonce: string) => sessions.get(sessions.idFromName(`admin-session ${nonce}`));

async function signIn(ip = "198.51.100.20"): Promise<{ cookie: string; nonce: string }> {
  const res = await baseFetch("/_admin/login", { method: "POST", ip, headers: { "content-type": "application/x-www-form-urlencoded", origin: SAME }, body: new URLSearchParams({ token: TOKEN }).toString() });
  expect(res.status).toBe(303);
  const m = /^(offload_admin=([^.;]+)\.[^;]+)/.exec(res.headers.get("set-cookie") ?? "");
  if (!m) throw new Error("no session cookie");
  return { cookie: m[1]!, nonce: m[2]! };
}

async function csrfOf(cookie: string): Promise<string> {
  const html = await (await baseFetch("/_admin", { headers: { cookie } })).text();
  const m = /name="csrf" value="([^"]+)"/.exec(html);
  if (!m) throw new Error("no CSRF token on the page");
  return m[1]!;
}

async function signOut(cookie: string): Promise<Response> {
  const csrf = await csrfOf(cookie);
  return baseFetch("/_admin/logout", { method: "POST", headers: { cookie, origin: SAME, "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ csrf }).toString() });
}

const storedKeys = (nonce: string) => runInDurableObject(sessionObject(nonce), async (_i: AdminSession, state) => [...(await state.storage.list()).keys()]);

describe("admin: sessions are revoked on sign-out (issue #11 L8)", () => {
  it("after sign-out the same cookie is refused on every admin page and API", async () => {
    const { cookie } = await signIn();
    expect((await baseFetch("/_admin/api/farms", { headers: { cookie } })).status).toBe(200);
    const out = await signOut(cookie);
    expect(out.status).toBe(303);
    expect(out.headers.get("set-cookie")).toMatch(/^offload_admin=; .*Max-Age=0/);
    // An attacker (or a browser tab) that kept the cookie replays it.
    for (const path of ["/_admin", "/_admin/api/farms", "/_admin/api/health"]) {
      const res = await baseFetch(path, { headers: { cookie } });
      expect(res.status, path).toBe(401);
      expect(await res.text(), path).not.toMatch(/farm_one|web1/);
    }
    const write = await baseFetch("/_admin/api/purge", { method: "POST", headers: { cookie, "content-type": "application/json" }, body: JSON.stringify({ path: "/x" }) });
    expect(write.status).toBe(401);
    // Signing in again opens a new session.
    const again = await signIn();
    expect((await baseFetch("/_admin/api/farms", { headers: { cookie: again.cookie } })).status).toBe(200);
  });

  it("signing out ends only that session; another one stays open", async () => {
    const a = await signIn();
    const b = await signIn();
    await signOut(a.cookie);
    expect((await baseFetch("/_admin/api/farms", { headers: { cookie: a.cookie } })).status).toBe(401);
    expect((await baseFetch("/_admin/api/farms", { headers: { cookie: b.cookie } })).status).toBe(200);
  });

  it("a cookie with a valid MAC that the server never opened is refused (sessions are an allow-list)", async () => {
    const minted = await newSession(TOKEN);
    const cookie = `offload_admin=${minted.value}`;
    expect((await baseFetch("/_admin/api/farms", { headers: { cookie } })).status).toBe(401);
  });

  it("changing ADMIN_TOKEN still ends every session, open or not", async () => {
    const { cookie } = await signIn();
    expect((await baseWithVars({ ADMIN_TOKEN: "another-admin-token-987654321" }, "/_admin/api/farms", { headers: { cookie } })).status).toBe(401);
  });

  it("storage is bounded: sign-out deletes the session's row, and its expiry alarm deletes it otherwise", async () => {
    const a = await signIn();
    expect(await storedKeys(a.nonce)).toEqual(["expires"]);
    await signOut(a.cookie);
    expect(await storedKeys(a.nonce)).toEqual([]);
    const b = await signIn();
    const alarm = await runInDurableObject(sessionObject(b.nonce), (_i: AdminSession, state) => state.storage.getAlarm());
    // The alarm is set for the session's own expiry (8 h after sign-in).
    expect(alarm).toBeGreaterThan(Date.now() + 8 * 3600_000 - 60_000);
    expect(await runDurableObjectAlarm(sessionObject(b.nonce))).toBe(true);
    expect(await storedKeys(b.nonce)).toEqual([]);
    expect((await baseFetch("/_admin/api/farms", { headers: { cookie: b.cookie } })).status).toBe(401);
  });
});

describe("admin: JSON writes under a session check Origin like the forms", () => {
  const purge = (headers: Record<string, string>) => baseFetch("/_admin/api/purge", { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify({ path: "/never-stored.bin" }) });

  it("a session-cookie write with a foreign Origin is refused 403; same-origin or no Origin passes", async () => {
    const { cookie } = await signIn();
    for (const origin of ["http://evil.example", "null", "https://base.test", "http://base.test:8080"]) {
      const res = await purge({ cookie, origin });
      expect(res.status, origin).toBe(403);
      expect(await res.text()).toMatch(/^refused: cross-origin request from .*\n$/);
    }
    expect((await purge({ cookie, origin: SAME })).status).toBe(200);
    expect((await purge({ cookie })).status).toBe(200);
    const member = await baseFetch("/_admin/api/farms/farm_one/members/web1", { method: "POST", headers: { cookie, origin: "http://evil.example", "content-type": "application/json" }, body: JSON.stringify({ state: "disabled" }) });
    expect(member.status).toBe(403);
  });

  it("bearer API calls are unaffected by Origin; Basic (which a browser may add by itself) is checked like a session", async () => {
    expect((await purge({ ...bearer, origin: "http://evil.example" })).status).toBe(200);
    expect((await purge(basicAuth)).status).toBe(200);
    expect((await purge({ ...basicAuth, origin: "http://evil.example" })).status).toBe(403);
  });
});
