// Structured logs over the whole local stack (README "Logs"): with every secret set, a
// session signed in and used, signed redirects followed, refusals provoked and the origin
// taken down, ALL of the stack's stdout and stderr (start-up lines, worker logs, Miniflare)
// holds none of the secrets, session cookie, CSRF token or redirect tokens, and the
// expected event lines are there as valid JSON carrying a request id.
import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStackOnFreePorts, stopStack } from "./stack-process.mjs";

const ISO = "/iso/distro-64m.iso";
const SECRETS = {
  ADMIN_TOKEN: `admin-${randomBytes(16).toString("hex")}`,
  ATH_TOKEN: `ath-${randomBytes(16).toString("hex")}`,
  signing: randomBytes(24).toString("base64url"),
  cookieKey: randomBytes(24).toString("base64url"),
};
/** Credentials a client presented that were wrong: not secrets, but never logged either. */
const WRONG = { login: `wrong-login-${randomBytes(8).toString("hex")}`, bearer: `wrong-bearer-${randomBytes(8).toString("hex")}`, ath: `wrong-ath-${randomBytes(8).toString("hex")}` };

/** One request over its own connection; `keepOpen`: resolve at the head, body unread. */
function request(url, { method = "GET", headers = {}, body, keepOpen = false } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, localAddress: "127.0.0.1", agent: false }, (res) => {
      if (keepOpen) return resolve({ res, status: res.statusCode, headers: res.headers });
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.once("end", () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString("latin1") }));
      res.once("error", reject);
    });
    req.once("error", reject);
    req.end(body);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Every structured line of the output: the JSON from its `{"level":` on (Miniflare may prefix it). */
function eventLines(out) {
  return out.split("\n").flatMap((l) => {
    const at = l.indexOf('{"level":"');
    return at < 0 ? [] : [{ raw: l, json: l.slice(at) }];
  });
}

describe("structured logs of the local stack", () => {
  let dir;
  let stack;
  let base;
  let control;
  /** Values the stack issued during the run (cookie, CSRF, redirect tokens), looked for at the end. */
  const issued = [];

  beforeAll(async () => {
    let urls;
    ({ dir, stack, urls } = await startStackOnFreePorts("offload-logs-", {
      CRON_EVERY_SECONDS: "1",
      ADMIN_TOKEN: SECRETS.ADMIN_TOKEN,
      ATH_TOKEN: SECRETS.ATH_TOKEN,
      ATH_COOKIE_KEYS: `c1:${SECRETS.cookieKey}`,
      SIGNING_KEYS: `k1:${SECRETS.signing}`,
      REQUIRE_SIGNED_URLS: "true",
      SIGN_CLIENT: "true",
      MAX_CONNECTIONS_PER_CLIENT: "1",
    }));
    base = urls.base;
    control = urls.control;
    await stack.ready;
  }, 180_000);

  afterAll(async () => {
    await stopStack(stack);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("signed redirect, a download held open, a second connection refused by the guard, the node refusing unsigned URLs", async () => {
    const redirect = await request(base + ISO);
    expect(redirect.status).toBe(307);
    const location = String(redirect.headers.location);
    const token = new URL(location).searchParams.get("offload_token");
    expect(token).toBeTruthy();
    issued.push(token, token.split(".").at(-1));

    const first = await request(location, { keepOpen: true });
    expect(first.status).toBe(200);
    first.res.pause(); // the download stays in flight and holds the client's one slot
    const second = await request(location);
    expect(second.status).toBe(503);

    const node = new URL(location).origin;
    expect((await request(node + ISO)).status).toBe(403);
    expect((await request(`${node}${ISO}?offload_token=${token.slice(0, -4)}AAAA`)).status).toBe(403);

    // The first download to its end: the node fills its copy (fill.started, fill.committed).
    const done = new Promise((resolve, reject) => {
      let bytes = 0;
      first.res.on("data", (c) => (bytes += c.length));
      first.res.once("end", () => resolve(bytes));
      first.res.once("error", reject);
    });
    first.res.resume();
    expect(await done).toBe(64 * 1024 * 1024);
  }, 120_000);

  it("admin: a wrong sign-in, a sign-in, a form action by the session, API calls with right, wrong and no credentials", async () => {
    const form = { "content-type": "application/x-www-form-urlencoded" };
    expect((await request(`${base}/_admin/login`, { method: "POST", headers: form, body: `token=${WRONG.login}` })).status).toBe(401);
    const login = await request(`${base}/_admin/login`, { method: "POST", headers: form, body: `token=${encodeURIComponent(SECRETS.ADMIN_TOKEN)}` });
    expect(login.status).toBe(303);
    const cookie = String(login.headers["set-cookie"]).split(";")[0];
    const value = cookie.slice(cookie.indexOf("=") + 1);
    issued.push(value, ...value.split(".").filter((p) => p.length >= 16));
    const page = await request(`${base}/_admin`, { headers: { cookie } });
    const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)?.[1];
    expect(csrf).toBeTruthy();
    issued.push(csrf);

    const purge = await request(`${base}/_admin/purge`, { method: "POST", headers: { ...form, cookie }, body: `csrf=${encodeURIComponent(csrf)}&path=${encodeURIComponent("/releases/app-1.0.tar.gz")}` });
    expect(purge.status).toBe(303);
    const json = { "content-type": "application/json" };
    const bearer = { authorization: `Bearer ${SECRETS.ADMIN_TOKEN}` };
    expect((await request(`${base}/_admin/api/purge`, { method: "POST", headers: { ...json, ...bearer }, body: "{not json" })).status).toBe(400);
    expect((await request(`${base}/_admin/api/purge`, { method: "POST", headers: { ...json, authorization: `Bearer ${WRONG.bearer}` }, body: '{"path":"/x"}' })).status).toBe(401);
    expect((await request(`${base}/_admin/api/purge`, { method: "POST", headers: json, body: '{"path":"/x"}' })).status).toBe(401);
    expect((await request(`${base}/_admin/api/farms`, { headers: bearer })).status).toBe(200);
    // mod_athena's agents send the token in the query: a wrong one is refused and logged, the token itself is not.
    expect((await request(`${base}/ath/update?farm=farm_one&member=web1&load=1&token=${WRONG.ath}`)).status).toBe(401);
  });

  it("a bad request path and, with the origin down, a 5xx from the base", async () => {
    expect((await request(`${base}/a/%00/b`)).status).toBe(400);
    expect((await fetch(`${control}/down`, { method: "POST" })).status).toBe(200);
    try {
      expect((await request(`${base}/small/hello.txt`)).status).toBeGreaterThanOrEqual(500);
    } finally {
      await fetch(`${control}/up`, { method: "POST" });
    }
  });

  it("the expected events are JSON lines with a request id; no secret, cookie or token appears anywhere in the output", async () => {
    // Fills commit from the coordinator and base lines flush asynchronously: wait for the last ones.
    for (let i = 0; i < 120 && !stack.output().includes('"msg":"fill.committed"'); i++) await sleep(250);
    await sleep(1000);
    await stopStack(stack);
    const out = stack.output();

    const lines = eventLines(out);
    const events = lines.map((l) => {
      expect(() => JSON.parse(l.json), l.raw).not.toThrow();
      return JSON.parse(l.json);
    });
    for (const e of events) {
      expect(Object.keys(e).slice(0, 4)).toEqual(["level", "msg", "requestId", "worker"]);
      expect(["error", "warn", "info"]).toContain(e.level);
    }
    const byMsg = (msg) => events.filter((e) => e.msg === msg);
    const requestDriven = ["ath.refused", "admin.signin", "admin.signin-refused", "admin.auth-refused", "admin.action", "signed-url.refused", "guard.refused", "fill.started", "answer.error"];
    for (const msg of requestDriven) {
      expect(byMsg(msg).length, `${msg} in:\n${lines.map((l) => l.json).join("\n")}`).toBeGreaterThan(0);
      for (const e of byMsg(msg)) expect(typeof e.requestId === "string" && e.requestId.length > 0, JSON.stringify(e)).toBe(true);
    }
    expect(byMsg("fill.committed").length).toBeGreaterThan(0);
    expect(byMsg("guard.refused")[0]).toMatchObject({ level: "warn", path: ISO, status: 503, reason: "concurrency-limit" });
    expect(byMsg("guard.refused")[0].worker).toMatch(/^node-[ab]$/);
    expect(byMsg("signed-url.refused").map((e) => e.path)).toEqual([ISO, ISO]);
    expect(byMsg("admin.signin")).toHaveLength(1);
    expect(byMsg("admin.signin-refused")[0]).toMatchObject({ reason: "wrong admin token" });
    expect(byMsg("admin.auth-refused").map((e) => e.presented).sort()).toEqual(["bearer", "none"]);
    const actions = byMsg("admin.action");
    expect(actions.find((e) => e.by === "session")).toMatchObject({ method: "POST", path: "/_admin/purge", status: 303, fields: { path: "/releases/app-1.0.tar.gz", csrf: "[redacted]" } });
    expect(actions.find((e) => e.by === "bearer")).toMatchObject({ method: "POST", path: "/_admin/api/purge", status: 400 });
    // Reads are not actions.
    expect(actions.filter((e) => e.path === "/_admin/api/farms")).toEqual([]);
    expect(byMsg("answer.error").find((e) => e.path === "/small/hello.txt")).toMatchObject({ worker: "offload-base" });
    // The origin's own failure carries the id of the answer it spoiled.
    const failedAnswer = byMsg("answer.error").find((e) => e.path === "/small/hello.txt");
    expect(byMsg("origin.fetch-failed").find((e) => e.target === "/small/hello.txt")).toMatchObject({ requestId: failedAnswer.requestId, worker: "offload-base" });
    expect(byMsg("ath.refused")).toEqual([expect.objectContaining({ level: "warn", path: "/ath/update", status: 401, worker: "offload-base" })]);

    const secrets = [...Object.values(SECRETS), ...Object.values(WRONG), ...issued];
    expect(secrets.every((s) => typeof s === "string" && s.length >= 16)).toBe(true);
    for (const s of secrets) expect(out.includes(s), `a secret value (${s.slice(0, 4)}…) is in the stack's output`).toBe(false);
    // Nor any Authorization or Cookie value, in whatever line.
    expect(out).not.toMatch(/Bearer (?!\[redacted\]|\$ATH_TOKEN)[A-Za-z0-9._~+/=-]{8,}/);
    expect(out).not.toMatch(/offload_admin=[A-Za-z0-9]/);
  }, 90_000);
});
