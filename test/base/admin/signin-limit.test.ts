// Issue #11 "Tokens": failed admin sign-ins are limited per client, then 429 with
// Retry-After (RFC 6585 §4) until the window ends; other clients are not affected.
import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { SIGNIN_FAILURES, SIGNIN_WINDOW_MS, type SignInLimiter } from "../../../src/admin/signin-limiter";
import { baseFetch } from "../support";

const TOKEN = "admin-test-token-0123456789";
const limiters = (env as unknown as Env).SIGNIN_LIMITER;
const limiterOf = (key: string) => limiters.get(limiters.idFromName(`admin-signin ${key}`));

const bearer = (token: string, ip: string) => baseFetch("/_admin/api/farms", { ip, headers: { authorization: `Bearer ${token}` } });
const basic = (token: string, ip: string) => baseFetch("/_admin/api/farms", { ip, headers: { authorization: `Basic ${btoa(`ops:${token}`)}` } });
const login = (token: string, ip: string) =>
  baseFetch("/_admin/login", { method: "POST", ip, headers: { "content-type": "application/x-www-form-urlencoded", origin: "http://base.test" }, body: new URLSearchParams({ token }).toString() });

async function expectLocked(res: Response): Promise<void> {
  expect(res.status).toBe(429);
  const retry = Number(res.headers.get("retry-after"));
  expect(retry).toBeGreaterThan(SIGNIN_WINDOW_MS / 1000 - 60);
  expect(retry).toBeLessThanOrEqual(SIGNIN_WINDOW_MS / 1000);
  expect(await res.text()).toMatch(/^too many failed sign-ins from this client: try again in \d+ s\n$/);
  expect(res.headers.get("set-cookie")).toBeNull();
}

describe("admin: sign-in attempts are rate-limited per client", () => {
  it(`after ${SIGNIN_FAILURES} wrong tokens a client gets 429 with Retry-After, even with the right token; another client is unaffected`, async () => {
    const attacker = "192.0.2.10";
    for (let i = 0; i < SIGNIN_FAILURES; i++) {
      const wrong = [bearer, basic, login][i % 3]!;
      expect((await wrong(`guess-${i}-0123456789`, attacker)).status).toBe(401);
    }
    await expectLocked(await bearer("guess-x-0123456789", attacker));
    // Right ones too: otherwise a 200 among the 429s would reveal the right guess.
    await expectLocked(await bearer(TOKEN, attacker));
    await expectLocked(await basic(TOKEN, attacker));
    await expectLocked(await login(TOKEN, attacker));
    // The operator, elsewhere, is not locked out.
    expect((await bearer(TOKEN, "192.0.2.11")).status).toBe(200);
    expect((await login(TOKEN, "2001:db8:1::5")).status).toBe(303);
  });

  it("the lock ends with the window: the alarm deletes the count, and the client may sign in again", async () => {
    const ip = "192.0.2.20";
    for (let i = 0; i < SIGNIN_FAILURES; i++) await login("wrong-token-0123456789", ip);
    await expectLocked(await login(TOKEN, ip));
    const stub = limiterOf(ip);
    const alarm = await runInDurableObject(stub, (_i: SignInLimiter, state) => state.storage.getAlarm());
    expect(alarm).toBeGreaterThan(Date.now());
    expect(alarm).toBeLessThanOrEqual(Date.now() + SIGNIN_WINDOW_MS);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await runInDurableObject(stub, async (_i: SignInLimiter, state) => (await state.storage.list()).size)).toBe(0);
    expect((await login(TOKEN, ip)).status).toBe(303);
  });

  it("a success before the limit clears the count (an operator's typos do not add up)", async () => {
    const ip = "192.0.2.30";
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < SIGNIN_FAILURES - 1; i++) expect((await bearer("typo-0123456789", ip)).status).toBe(401);
      expect((await bearer(TOKEN, ip)).status).toBe(200);
    }
  });

  it("one IPv6 /64 is one client (rotating addresses does not buy more guesses)", async () => {
    for (let i = 0; i < SIGNIN_FAILURES; i++) expect((await bearer("wrong-token-0123456789", `2001:db8:7:7::${i + 1}`)).status).toBe(401);
    await expectLocked(await bearer(TOKEN, "2001:db8:7:7::ffff"));
  });

  it("requests without credentials and valid sessions are not counted", async () => {
    const ip = "192.0.2.40";
    for (let i = 0; i < SIGNIN_FAILURES + 2; i++) expect((await baseFetch("/_admin/api/farms", { ip })).status).toBe(401);
    expect((await bearer(TOKEN, ip)).status).toBe(200);
  });
});
