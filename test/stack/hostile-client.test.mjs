// A hostile client against the local stack exactly as `bash scripts/start` runs it, over
// real sockets: one case per class of issue #11 (README "Security"). Every refusal must be
// a clear 4xx with a one-line reason: never a 5xx, never an internal address, never a
// request to a host other than the configured origin and backends.
//
// Not here: L9 (client identity). The edge front stamps CF-Connecting-IP from the TCP
// peer, as Cloudflare does, so a client cannot send a missing or odd one through the
// stack; test/limits/guard-identity.test.ts sends them to the worker directly.
import { spawnSync } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../scripts/lib/free-port.mjs";
import { startStack, stopStack } from "./stack-process.mjs";

const ISO = "/iso/distro-64m.iso";
const SIGNING_SECRET = randomBytes(24).toString("base64url");
const ADMIN_TOKEN = `admin-${randomBytes(12).toString("hex")}`;
const ATH_TOKEN = `ath-${randomBytes(12).toString("hex")}`;
const CLIENT_BODY_TIMEOUT_MS = 1000;

/** One request over its own connection; `body` may be a function that writes (and may stall). */
function request(url, { method = "GET", headers = {}, localAddress = "127.0.0.1", body, keepOpen = false } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, localAddress, agent: false }, (res) => {
      if (keepOpen) return resolve({ res, status: res.statusCode, headers: res.headers });
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.once("end", () => {
        resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString("latin1") });
        req.destroy(); // a stalled upload's connection is not ours to keep
      });
      res.once("error", reject);
    });
    req.once("error", reject);
    if (typeof body === "function") body(req);
    else req.end(body);
  });
}

/** curl with the target sent exactly as written (--path-as-is): status, headers, body. */
function curl(url, args = []) {
  const r = spawnSync("curl", ["-s", "--path-as-is", "-D", "-", "--max-time", "20", ...args, url], { encoding: "latin1" });
  const [head = "", ...rest] = r.stdout.split("\r\n\r\n");
  const status = Number(/^HTTP\/[\d.]+ (\d{3})/.exec(head)?.[1] ?? 0);
  return { status, head, body: rest.join("\r\n\r\n") };
}

/** The backend behind the proxy routes: it reads every request body to its end before answering. */
function startBodyReader(port) {
  const server = http.createServer((req, res) => {
    let bytes = 0;
    req.on("data", (c) => (bytes += c.length));
    req.once("end", () => {
      const p = (req.url ?? "/").split("?")[0];
      if (p.endsWith("/evil-location")) {
        res.writeHead(302, { location: "//evil.example/x", "content-length": "0" });
        return res.end();
      }
      if (p.endsWith("/evil-backslash")) {
        res.writeHead(302, { location: "/\\evil.example/x", "content-length": "0" });
        return res.end();
      }
      const text = `read ${bytes} bytes of ${req.method} ${p}\n`;
      res.writeHead(200, { "content-type": "text/plain", "content-length": Buffer.byteLength(text) });
      res.end(text);
    });
  });
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve(server)));
}

/** A v2 token as src/signing/redirect-token.ts documents it, minted independently (node:crypto). */
function mintToken({ path: p, query = "", scope = "q", expires, client = "" }) {
  const mac = createHmac("sha256", SIGNING_SECRET).update(`offload-token/v2\n${scope}\n${p}\n${query}\n${expires}\n${client}`).digest("base64url");
  return `k1.${expires}.${Buffer.from(client).toString("base64url")}.${scope}.${mac}`;
}

/** The session cookie and the page's CSRF token after a sign-in from `localAddress`. */
async function signIn(base, localAddress) {
  const login = await request(`${base}/_admin/login`, {
    method: "POST",
    localAddress,
    headers: { "content-type": "application/x-www-form-urlencoded", origin: base },
    body: `token=${encodeURIComponent(ADMIN_TOKEN)}`,
  });
  expect(login.status).toBe(303);
  const cookie = String(login.headers["set-cookie"]).split(";")[0];
  const page = await request(`${base}/_admin`, { localAddress, headers: { cookie } });
  expect(page.status).toBe(200);
  const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)?.[1];
  expect(csrf).toBeTruthy();
  return { cookie, csrf };
}

describe("hostile client against the local stack", () => {
  let dir;
  let stack;
  let base;
  let nodeA;
  let control;
  let backend;
  let backendUrl;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "offload-hostile-"));
    const [origin, controlPort, a, b, basePort, backendPort, deadPort] = await Promise.all(Array.from({ length: 7 }, () => freePort()));
    base = `http://127.0.0.1:${basePort}`;
    nodeA = `http://127.0.0.1:${a}`;
    control = `http://127.0.0.1:${controlPort}`;
    backendUrl = `http://127.0.0.1:${backendPort}`;
    backend = await startBodyReader(backendPort);
    stack = startStack({
      ORIGIN_PORT: String(origin),
      ORIGIN_CONTROL_PORT: String(controlPort),
      NODE_PORTS: `${a},${b}`,
      BASE_PORT: String(basePort),
      CRON_EVERY_SECONDS: "1",
      STATE_DIR: path.join(dir, "state"),
      DEMO_DIR: path.join(dir, "demo"),
      ADMIN_TOKEN,
      ATH_TOKEN,
      SIGNING_KEYS: `k1:${SIGNING_SECRET}`,
      REQUIRE_SIGNED_URLS: "true",
      SIGN_CLIENT: "true",
      CACHE_KEY_QUERY: "true",
      REQUIRE_TOKEN_CLIENT: "true",
      MAX_CONNECTIONS_PER_CLIENT: "2",
      OFFLOAD_INCLUDE: "/*/*/*/*.iso,/*",
      FARMS: JSON.stringify({
        farm_body: { members: [{ id: "b1", url: backendUrl }], health: { path: "/health", intervalSeconds: 1, timeoutMs: 1000, rise: 1, fall: 2 } },
      }),
      PROXY_ROUTES: JSON.stringify([
        { prefix: "/upload/", backends: "http://farm_body", timeoutMs: 2000, clientBodyTimeoutMs: CLIENT_BODY_TIMEOUT_MS },
        { prefix: "/direct/", backends: [backendUrl], timeoutMs: 2000, clientBodyTimeoutMs: CLIENT_BODY_TIMEOUT_MS },
        { prefix: "/dead/", backends: [`http://127.0.0.1:${deadPort}`], timeoutMs: 1000 },
      ]),
    });
    await stack.ready;
  });

  afterAll(async () => {
    await stopStack(stack);
    await new Promise((r) => backend?.close(r) ?? r());
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** The base's redirect for `p` (a signed node URL). */
  async function signedNodeUrl(p, localAddress = "127.0.0.1") {
    const r = await request(base + p, { method: "HEAD", localAddress });
    expect(r.status, `base redirect for ${p}`).toBe(307);
    return r.headers.location;
  }

  it("H1: stalled uploads get 408 and never take the backend or the farm member out of service", async () => {
    const stall = (route) =>
      request(`${base}${route}x`, {
        method: "POST",
        headers: { "content-length": "1000", "content-type": "application/octet-stream" },
        body: (req) => req.write(Buffer.alloc(10, 97)), // 10 of 1000 bytes, then silence
      });
    const stalled = await Promise.all([stall("/upload/"), stall("/upload/"), stall("/direct/"), stall("/direct/"), stall("/upload/")]);
    for (const r of stalled) {
      expect(r.status).toBe(408);
      expect(r.body).not.toMatch(/127\.0\.0\.1:\d+/);
    }
    // The backend is still in service for everyone, locally and in the farm registry.
    for (const route of ["/upload/", "/direct/"]) {
      const ok = await request(`${base}${route}x`, { method: "POST", headers: { "content-length": "4" }, body: "abcd" });
      expect(ok.status, route).toBe(200);
      expect(ok.body, route).toMatch(/^read 4 bytes of POST /);
    }
    const balance = await request(`${base}/ath/balance/?farm_body`, { headers: { authorization: `Bearer ${ATH_TOKEN}` } });
    expect(balance.status).toBe(200);
    expect(balance.body).toContain(backendUrl);
  });

  it("M1: malformed or repeated offload_token is a 4xx at the node, and the base signs over the client's", async () => {
    const bad = await request(`${nodeA}/small/hello.txt?offload_token=%`);
    expect(bad.status).toBeGreaterThanOrEqual(400);
    expect(bad.status).toBeLessThan(500);
    const loc = (await request(`${base}${ISO}?offload_token=%`, { method: "HEAD" })).headers.location;
    expect(loc.match(/offload_token=/g)).toHaveLength(1);
    expect((await request(loc, { method: "HEAD" })).status).toBe(200);
    const good = new URL(loc);
    const twice = await request(`${good.href}&offload_token=${good.searchParams.get("offload_token")}`, { method: "HEAD" });
    expect(twice.status).toBe(400);
  });

  it("M2: parallel small ranges of one big file from one client take guard slots", async () => {
    const url = await signedNodeUrl(ISO);
    await request(url); // stored first
    const ranged = await Promise.all(
      Array.from({ length: 8 }, (_, i) => request(url, { headers: { range: `bytes=${i * 524288}-${i * 524288 + 524287}` }, keepOpen: true })),
    );
    for (const r of ranged) r.res.pause();
    const statuses = ranged.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 206)).toHaveLength(2);
    expect(statuses.filter((s) => s === 503)).toHaveLength(6);
    for (const r of ranged) r.res.destroy();
  });

  it("M3: a thousand ranges do not become a thousand parts", async () => {
    const url = await signedNodeUrl(ISO);
    // 500 far-apart ranges (the edge front, like most servers, caps a header at 16 KB):
    // more parts than MAX_RANGES (16) after merging, so the whole file, in one read.
    const far = Array.from({ length: 500 }, (_, i) => `${i * 131072}-${i * 131072}`).join(",");
    const whole = await request(url, { headers: { range: `bytes=${far}` }, keepOpen: true, method: "HEAD" });
    expect(whole.status).toBe(200);
    expect(whole.headers["content-length"]).toBe(String(64 * 1024 * 1024));
    whole.res.destroy();
    // 500 one-byte ranges two bytes apart: merged into one part.
    const near = Array.from({ length: 500 }, (_, i) => `${i * 2}-${i * 2}`).join(",");
    const merged = await request(url, { headers: { range: `bytes=${near}` } });
    expect(merged.status).toBe(206);
    expect(merged.headers["content-range"]).toBe(`bytes 0-998/${64 * 1024 * 1024}`);
  });

  it("M4: a long path against backtracking-prone globs is answered promptly", () => {
    const p = "/" + "a/".repeat(1000) + "x";
    const r = curl(base + p, ["-o", "/dev/null", "-w", "%{time_total}"]);
    expect(r.status).toBeGreaterThan(0);
    expect(r.status).toBeLessThan(500);
  });

  it("M5: with CACHE_KEY_QUERY a token for ?v=1 does not open ?v=2", async () => {
    const url = new URL(await signedNodeUrl(`${ISO}?v=1`));
    expect((await request(url.href, { method: "HEAD" })).status).toBe(200);
    const other = url.href.replace("v=1", "v=2");
    const r = await request(other, { method: "HEAD" });
    expect(r.status).toBe(403);
  });

  it("L1: reserved prefixes in any spelling never reach the origin", async () => {
    await fetch(`${control}/reset`, { method: "POST" });
    for (const p of [`//ath/update?farm=farm_body&member=b1&load=1&token=${ATH_TOKEN}x`, "//_admin", "/_admin//api/stats", "//ath//balance/?farm_body", "/%5Fadmin"]) {
      const r = curl(base + p);
      expect(r.status, p).toBeGreaterThanOrEqual(400);
      expect(r.status, p).toBeLessThan(500);
    }
    const stats = await (await fetch(`${control}/stats`)).json();
    expect(stats.recent.filter((e) => /ath|admin/i.test(e.url))).toEqual([]);
  });

  it("L2: ';' parameters on a dot segment are refused at the base and the node", () => {
    for (const [host, p] of [[base, "/upload/..;/x"], [base, "/direct/%2e%2e;x=1/y"], [nodeA, "/..;/small/hello.txt"], [nodeA, "/small/.;a/hello.txt"]]) {
      const r = curl(host + p);
      expect(r.status, p).toBe(400);
      expect(r.body, p).toMatch(/^bad request path: /);
    }
  });

  it("L3: the client's Host never becomes a URL the base sends", async () => {
    const r = await request(`${base}${ISO}`, { method: "GET", headers: { host: "evil.example" } });
    expect(JSON.stringify(r.headers) + r.body).not.toContain("evil.example");
    const meta = await request(`${base}${ISO}.meta4`, { headers: { host: "evil.example" } });
    expect(JSON.stringify(meta.headers) + meta.body).not.toContain("evil.example");
  });

  it("L5: client-forged forwarding headers do not reach the origin", async () => {
    await fetch(`${control}/reset`, { method: "POST" });
    const r = await request(`${base}/small/hello.txt`, {
      headers: { "x-real-ip": "6.6.6.6", "true-client-ip": "6.6.6.6", forwarded: "for=6.6.6.6", "x-forwarded-for": "6.6.6.6" },
    });
    expect(r.status).toBe(200);
    const stats = await (await fetch(`${control}/stats?path=/small/hello.txt`)).json();
    const names = stats.recent.at(-1).headerNames;
    for (const h of ["x-real-ip", "true-client-ip", "forwarded"]) expect(names).not.toContain(h);
  });

  it("L6: a malformed form body on the admin is 400, not 500", async () => {
    const r = await request(`${base}/_admin/login`, {
      method: "POST",
      headers: { "content-type": "multipart/form-data; boundary=zzz" },
      body: "--zzz\r\ngarbage!!", // no closing boundary
    });
    expect(r.status).toBe(400);
  });

  it("L7: a failed backend's answer names no internal address and carries a request id", async () => {
    const r = await request(`${base}/dead/x`);
    expect(r.status).toBe(502);
    expect(r.body).not.toMatch(/127\.0\.0\.1|:\d{4,5}\b|connect/i);
    const id = r.headers["x-request-id"];
    expect(id).toBeTruthy();
    expect(r.body).toContain(id);
  });

  it("Location: //host and /\\host from a backend do not leave the public host", async () => {
    for (const p of ["/direct/evil-location", "/direct/evil-backslash"]) {
      const r = await request(base + p);
      const loc = r.headers.location ?? "";
      expect(loc, p).not.toMatch(/^(\/\/|\/\\|\\)/);
      expect(new URL(loc, base).host, p).toBe(new URL(base).host);
    }
  });

  it("tokens: an expiry beyond the node's TOKEN_MAX_TTL_SECONDS is refused, a normal one is not", async () => {
    const now = Math.floor(Date.now() / 1000);
    const normal = await request(`${nodeA}${ISO}?offload_token=${mintToken({ path: ISO, expires: now + 600, client: "127.0.0.1" })}`, { method: "HEAD" });
    expect(normal.status).toBe(200);
    const long = await request(`${nodeA}${ISO}?offload_token=${mintToken({ path: ISO, expires: now + 1e9, client: "127.0.0.1" })}`, { method: "HEAD" });
    expect(long.status).toBe(403);
    const body = await request(`${nodeA}${ISO}?offload_token=${mintToken({ path: ISO, expires: now + 1e9, client: "127.0.0.1" })}`, { headers: { range: "bytes=0-0" } });
    expect(body.body).toMatch(/too-long/);
    // REQUIRE_TOKEN_CLIENT: a token bound to nobody is refused.
    const unbound = await request(`${nodeA}${ISO}?offload_token=${mintToken({ path: ISO, expires: now + 600 })}`, { headers: { range: "bytes=0-0" } });
    expect(unbound.status).toBe(403);
    expect(unbound.body).toMatch(/unbound/);
  });

  it("L8: a session ends at sign-out: the same cookie is refused afterwards", async () => {
    const { cookie, csrf } = await signIn(base, "127.0.0.5");
    const out = await request(`${base}/_admin/logout`, {
      method: "POST",
      localAddress: "127.0.0.5",
      headers: { cookie, origin: base, "content-type": "application/x-www-form-urlencoded" },
      body: `csrf=${encodeURIComponent(csrf)}`,
    });
    expect(out.status).toBe(303);
    const replay = await request(`${base}/_admin/api/farms`, { localAddress: "127.0.0.5", headers: { cookie } });
    expect(replay.status).toBe(401);
  });

  it("admin: a cookie-authenticated JSON write from a foreign Origin is refused", async () => {
    const { cookie } = await signIn(base, "127.0.0.6");
    const r = await request(`${base}/_admin/api/purge`, {
      method: "POST",
      localAddress: "127.0.0.6",
      headers: { cookie, origin: "http://evil.example", "content-type": "application/json" },
      body: JSON.stringify({ path: "/small/hello.txt" }),
    });
    expect(r.status).toBe(403);
  });

  it("admin: wrong tokens are rate-limited per client; the operator elsewhere is not locked out", async () => {
    const guess = () => request(`${base}/_admin/api/farms`, { localAddress: "127.0.0.7", headers: { authorization: "Bearer wrong-token-xxxxxxxxxxxx" } });
    const statuses = [];
    for (let i = 0; i < 11; i++) statuses.push((await guess()).status);
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    const locked = await request(`${base}/_admin/api/farms`, { localAddress: "127.0.0.7", headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(locked.status).toBe(429);
    expect(Number(locked.headers["retry-after"])).toBeGreaterThan(0);
    const operator = await request(`${base}/_admin/api/farms`, { localAddress: "127.0.0.8", headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(operator.status).toBe(200);
  });
});
