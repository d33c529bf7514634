// The admin's answer headers (hono/secure-headers + no-store) and its session cookie's
// attributes (hono/cookie): the same set on every kind of answer, nothing more.
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { baseFetch } from "../support";

const TOKEN = "admin-test-token-0123456789";
const bearer = { authorization: `Bearer ${TOKEN}` };
const CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
// Hono's other secure-headers defaults, deliberately off (HSTS would bind the whole site to https).
const NOT_SENT = ["strict-transport-security", "x-frame-options", "cross-origin-opener-policy", "cross-origin-resource-policy", "origin-agent-cluster", "x-xss-protection", "x-dns-prefetch-control", "x-download-options", "x-permitted-cross-domain-policies"];

function signIn(scheme: "http" | "https" = "http"): Promise<Response> {
  const req = new Request(`${scheme}://base.test/_admin/login`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: `${scheme}://base.test`, "cf-connecting-ip": "198.51.100.9" },
    body: new URLSearchParams({ token: TOKEN }).toString(),
    redirect: "manual",
  });
  return (exports as unknown as { default: Fetcher }).default.fetch(req);
}

/** Set-Cookie's name=value and its attributes, names lowercased, in a set (order is not meaningful, RFC 6265 §5.2). */
function cookieParts(res: Response): { pair: string; attrs: Set<string> } {
  const [pair = "", ...attrs] = (res.headers.get("set-cookie") ?? "").split(";").map((s) => s.trim());
  return { pair, attrs: new Set(attrs.map((a) => a.replace(/^[^=]+/, (n) => n.toLowerCase()))) };
}

describe("admin: answer headers and cookie attributes", () => {
  it("every kind of admin answer carries the same security headers and no-store, and none of Hono's other defaults", async () => {
    const signedIn = await signIn();
    const cookie = cookieParts(signedIn).pair;
    const answers: [string, Response][] = [
      ["page", await baseFetch("/_admin", { headers: bearer })],
      ["sign-in page", await baseFetch("/_admin/login")],
      ["401 page", await baseFetch("/_admin")],
      ["401 api", await baseFetch("/_admin/api/farms")],
      ["json", await baseFetch("/_admin/api/farms", { headers: bearer })],
      ["sign-in 303", signedIn],
      ["cross-origin 403", await baseFetch("/_admin/api/purge", { method: "POST", headers: { cookie, origin: "http://evil.example", "content-type": "application/json" }, body: "{}" })],
      ["404", await baseFetch("/_admin/nothing", { headers: bearer })],
    ];
    for (const [what, res] of answers) {
      await res.body?.cancel();
      expect(res.headers.get("cache-control"), what).toBe("no-store");
      expect(res.headers.get("content-security-policy"), what).toBe(CSP);
      expect(res.headers.get("x-content-type-options"), what).toBe("nosniff");
      expect(res.headers.get("referrer-policy"), what).toBe("same-origin");
      for (const h of NOT_SENT) expect(res.headers.get(h), `${what}: ${h}`).toBeNull();
    }
    expect(answers.map(([, r]) => r.status)).toEqual([200, 200, 401, 401, 200, 303, 403, 404]);
  });

  it("the session cookie: HttpOnly, SameSite=Strict, Path=/_admin, 8 h, Secure only over https; sign-out drops it with the same attributes", async () => {
    const plainHttp = cookieParts(await signIn("http"));
    expect(plainHttp.pair).toMatch(/^offload_admin=[0-9a-f]{36}\.\d+\.[A-Za-z0-9_-]{43}$/);
    expect(plainHttp.attrs).toEqual(new Set(["path=/_admin", "max-age=28800", "httponly", "samesite=Strict"]));
    const https = await signIn("https");
    expect(https.status).toBe(303);
    expect(cookieParts(https).attrs.has("secure")).toBe(true);

    const csrfPage = await (await baseFetch("/_admin", { headers: { cookie: plainHttp.pair } })).text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(csrfPage)?.[1] ?? "";
    const out = await baseFetch("/_admin/logout", {
      method: "POST",
      headers: { cookie: plainHttp.pair, origin: "http://base.test", "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ csrf }).toString(),
    });
    expect(out.status).toBe(303);
    expect(out.headers.get("location")).toBe("/_admin/login");
    const dropped = cookieParts(out);
    expect(dropped.pair).toBe("offload_admin=");
    expect(dropped.attrs).toEqual(new Set(["path=/_admin", "max-age=0", "httponly", "samesite=Strict"]));
  });
});
