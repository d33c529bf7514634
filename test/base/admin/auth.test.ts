import { describe, expect, it } from "vitest";
import { baseFetch, baseWithVars } from "../support";

const TOKEN = "admin-test-token-0123456789";
const bearer = { authorization: `Bearer ${TOKEN}` };
const basic = (user: string, pass: string) => ({ authorization: `Basic ${btoa(`${user}:${pass}`)}` });

async function signIn(token: string): Promise<Response> {
  return baseFetch("/_admin/login", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", origin: "http://base.test" }, body: new URLSearchParams({ token }).toString() });
}

function sessionCookie(res: Response): string {
  const set = res.headers.get("set-cookie") ?? "";
  const m = /^(offload_admin=[^;]+)/.exec(set);
  if (!m) throw new Error(`no session cookie in ${set}`);
  return m[1]!;
}

describe("admin: authentication", () => {
  it("answers 401 with a sign-in form and no data without credentials", async () => {
    for (const path of ["/_admin", "/_admin/", "/_admin/api/farms", "/_admin/api/health", "/_admin/api/stats", "/_admin/api/farms/farm_one"]) {
      const res = await baseFetch(path);
      const body = await res.text();
      expect(res.status, path).toBe(401);
      expect(res.headers.get("www-authenticate"), path).toMatch(/^Bearer realm=/);
      expect(body, path).not.toMatch(/web1|127\.0\.0\.1|farm_one/);
    }
    expect(await (await baseFetch("/_admin")).text()).toMatch(/<form method="post" action="\/_admin\/login">/);
  });

  it("refuses wrong tokens in every form (bearer, Basic, sign-in, forged session cookie)", async () => {
    expect((await baseFetch("/_admin/api/farms", { headers: { authorization: "Bearer wrong-token-wrong-token" } })).status).toBe(401);
    expect((await baseFetch("/_admin/api/farms", { headers: basic("admin", "nope") })).status).toBe(401);
    expect((await baseFetch("/_admin/api/farms", { headers: { authorization: `Bearer ${TOKEN}x` } })).status).toBe(401);
    // A token no header could carry (a line break) is just a wrong token, not a crash.
    const broken = await signIn("line\nbreak");
    expect(broken.status).toBe(401);
    expect(broken.headers.get("set-cookie")).toBeNull();
    const bad = await signIn("not-the-token");
    expect(bad.status).toBe(401);
    expect(bad.headers.get("set-cookie")).toBeNull();
    expect(await bad.text()).toMatch(/Wrong admin token/);
    const forged = `offload_admin=${"a".repeat(36)}.${Math.floor(Date.now() / 1000) + 3600}.AAAA`;
    expect((await baseFetch("/_admin/api/farms", { headers: { cookie: forged } })).status).toBe(401);
  });

  it("accepts the token as bearer, as a Basic password, and through a sign-in session", async () => {
    expect((await baseFetch("/_admin/api/farms", { headers: bearer })).status).toBe(200);
    expect((await baseFetch("/_admin/api/farms", { headers: basic("anyone", TOKEN) })).status).toBe(200);
    const signedIn = await signIn(TOKEN);
    expect(signedIn.status).toBe(303);
    expect(signedIn.headers.get("location")).toBe("/_admin");
    expect(signedIn.headers.get("set-cookie")).toMatch(/HttpOnly; SameSite=Strict/);
    const page = await baseFetch("/_admin", { headers: { cookie: sessionCookie(signedIn) } });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toMatch(/default-src 'none'/);
    expect(await page.text()).toMatch(/data-farm="farm_one"/);
  });

  it("a session cookie signed under another ADMIN_TOKEN is refused (rotating the token ends sessions)", async () => {
    const cookie = sessionCookie(await signIn(TOKEN));
    const res = await baseWithVars({ ADMIN_TOKEN: "another-admin-token-987654321" }, "/_admin/api/farms", { headers: { cookie } });
    expect(res.status).toBe(401);
  });

  it("is off (503, no data) without ADMIN_TOKEN, and a short token is a config error naming the field", async () => {
    const off = await baseWithVars({ ADMIN_TOKEN: "" }, "/_admin/api/farms", { headers: bearer });
    expect(off.status).toBe(503);
    expect(await off.text()).toMatch(/ADMIN_TOKEN/);
    const short = await baseWithVars({ ADMIN_TOKEN: "short" }, "/_admin", { headers: bearer });
    expect(short.status).toBe(500);
    expect(await short.text()).toMatch(/invalid config ADMIN_TOKEN/);
  });
});
