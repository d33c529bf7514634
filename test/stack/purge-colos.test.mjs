// Purge everywhere (issue #15 part 4) on the local stack: node-a and node-b stand for two
// colos, each with its own Cache API (CACHE_NAME per node, scripts/stack/miniflare-stack.mjs).
// Both serve a file from their own colo copy; one purge on the base's admin API, and both
// stop serving it within PURGE_CHECK_SECONDS: the first to be asked refills from the
// origin (the origin sees one new GET, Cache-Status says miss), the other serves that new
// copy, never its own old one (told apart by age).
import { createHash, randomBytes } from "node:crypto";
import http from "node:http";
import { rm } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStackOnFreePorts, stopStack } from "./stack-process.mjs";

const RELEASE = "/releases/app-1.0.tar.gz";
const HELLO = "/small/hello.txt";
// src/config/node-config.ts PURGE_CHECK_SECONDS default: the stated bound.
const PURGE_CHECK_MS = 2000;
// Age of the colo copies when purged: long enough to tell them from a refilled copy by age.
const OLD_MS = 3000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

describe("purge reaches every colo (local stack, two nodes)", () => {
  const adminToken = `admin-${createHash("sha256").update(String(Math.random())).digest("hex").slice(0, 24)}`;
  let dir;
  let stack;
  let nodes;
  let base;
  let control;
  // A local server standing in for api.cloudflare.com (CF_API_BASE): records every call.
  let api;
  const apiCalls = [];
  let apiAnswer = "ok";
  const cf = { token: `cf_${randomBytes(16).toString("hex")}`, zone: randomBytes(16).toString("hex") };

  beforeAll(async () => {
    api = http.createServer((req, res) => {
      let body = "";
      req.on("data", (d) => (body += d));
      req.on("end", () => {
        apiCalls.push({ method: req.method, url: req.url, auth: req.headers.authorization, body: JSON.parse(body || "null") });
        if (apiAnswer === "429") {
          res.writeHead(429, { "content-type": "application/json", "retry-after": "30" });
          res.end(JSON.stringify({ success: false, errors: [{ code: 1015, message: "rate limited" }] }));
          return;
        }
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ success: true, errors: [], messages: [], result: { id: "purge-id" } }));
      });
    });
    await new Promise((r) => api.listen(0, "127.0.0.1", r));
    let urls;
    ({ dir, stack, urls } = await startStackOnFreePorts("offload-purge-", {
      ADMIN_TOKEN: adminToken,
      // Colo hits without an origin HEAD: only the purge can stop a colo copy.
      REVALIDATE_SECONDS: "3600",
      CF_API_TOKEN: cf.token,
      CF_ZONE_ID: cf.zone,
      CF_API_BASE: `http://127.0.0.1:${api.address().port}/client/v4`,
      CF_PURGE_HOSTS: "downloads.example.com,dl2.example.com",
    }));
    nodes = urls.nodes;
    base = urls.base;
    control = urls.control;
    await stack.ready;
  }, 120_000);

  afterAll(async () => {
    await stopStack(stack);
    await new Promise((r) => api?.close(r));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const originGets = async (p) => (await (await fetch(`${control}/stats?path=${encodeURIComponent(p)}`)).json()).gets;
  const get = async (node, p) => {
    const res = await fetch(`${node}${p}`);
    const body = Buffer.from(await res.arrayBuffer());
    return { status: res.status, cacheStatus: res.headers.get("cache-status") ?? "", sha: createHash("sha256").update(body).digest("hex") };
  };
  /** Requests until `node` answers from its own colo copy (learnt in the background after an R2 hit). */
  const untilColoHit = async (node, p) => {
    for (let i = 0; i < 50; i++) {
      const r = await get(node, p);
      if (r.cacheStatus.includes("detail=cache-api")) return r;
      await sleep(100);
    }
    throw new Error(`${node}${p} never answered from its colo copy`);
  };
  const purge = (body, headers = { authorization: `Bearer ${adminToken}` }) =>
    fetch(`${base}/_admin/api/purge`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });

  /**
   * After a purge: every node stops serving its old colo copy within the bound. A node
   * answers from a new copy: its own refill (fwd=miss) or, when the other node's refill
   * was first, the new copy from R2 or its colo, told apart from the old one by its age
   * (Cache-Status ttl = REVALIDATE_SECONDS - age; the old copies are OLD_MS old).
   */
  async function bothStopServingOld(p, purgedAt, sha) {
    const answers = [];
    for (const node of nodes) {
      let fresh = null;
      const seen = [];
      while (Date.now() - purgedAt < PURGE_CHECK_MS + 3000) {
        const r = await get(node, p);
        expect(r.status).toBe(200);
        expect(r.sha).toBe(sha);
        seen.push(r.cacheStatus);
        const ttl = Number(/ttl=(\d+)/.exec(r.cacheStatus)?.[1] ?? NaN);
        const age = 3600 - ttl;
        if (/fwd=miss/.test(r.cacheStatus) || age * 1000 <= Date.now() - purgedAt + 1000) {
          fresh = { at: Date.now(), r };
          break;
        }
        await sleep(100);
      }
      expect(fresh, `${node} kept serving its purged colo copy: ${[...new Set(seen)].join(" / ")}`).not.toBeNull();
      expect(fresh.at - purgedAt).toBeLessThan(PURGE_CHECK_MS + 1500);
      answers.push(fresh.r.cacheStatus);
    }
    // The first node refilled from the origin; the other may have joined or read its copy.
    expect(answers.some((a) => /fwd=miss/.test(a))).toBe(true);
  }

  it("each node has its own Cache API: a copy node-a learnt is read from R2 by node-b", async () => {
    const first = await get(nodes[0], HELLO);
    expect(first.cacheStatus).toMatch(/fwd=miss/);
    const hello = await untilColoHit(nodes[0], HELLO);
    const other = await get(nodes[1], HELLO);
    expect(other.cacheStatus).toContain("detail=r2");
    expect(other.sha).toBe(hello.sha);
    await untilColoHit(nodes[1], HELLO);
    expect(await originGets(HELLO)).toBe(1);
  });

  it("a prefix purge on the admin: both nodes stop serving their colo copies and refill from the origin", async () => {
    await get(nodes[0], RELEASE);
    const { sha } = await untilColoHit(nodes[0], RELEASE);
    await untilColoHit(nodes[1], RELEASE);
    const before = await originGets(RELEASE);
    expect(before).toBe(1);
    await sleep(OLD_MS);

    const res = await purge({ prefix: "/releases/" });
    const purgedAt = Date.now();
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ prefix: "/releases/", purged: 1, more: false, cloudflare: { ok: true, requests: 1, items: 2 } });
    expect(apiCalls).toEqual([
      { method: "POST", url: `/client/v4/zones/${cf.zone}/purge_cache`, auth: `Bearer ${cf.token}`, body: { prefixes: ["downloads.example.com/releases/", "dl2.example.com/releases/"] } },
    ]);
    await bothStopServingOld(RELEASE, purgedAt, sha);
    // One refill shared by both (fills are coordinated and R2 is global).
    expect(await originGets(RELEASE)).toBe(before + 1);
    // The refilled copy is served from the colos again.
    for (const node of nodes) await untilColoHit(node, RELEASE);
  }, 60_000);

  it("a path purge on the admin: the same for one file, other files untouched", async () => {
    await untilColoHit(nodes[0], HELLO);
    await untilColoHit(nodes[1], HELLO);
    const before = await originGets(HELLO);
    const releaseGets = await originGets(RELEASE);
    const hello = await get(nodes[0], HELLO);
    await sleep(OLD_MS);
    const res = await purge({ path: HELLO });
    const purgedAt = Date.now();
    expect(await res.json()).toMatchObject({ path: HELLO, stored: true, purged: 1, cloudflare: { ok: true, items: 4 } });
    expect(apiCalls.at(-1)?.body).toEqual({ files: [`https://downloads.example.com${HELLO}`, `http://downloads.example.com${HELLO}`, `https://dl2.example.com${HELLO}`, `http://dl2.example.com${HELLO}`] });
    await bothStopServingOld(HELLO, purgedAt, hello.sha);
    expect(await originGets(HELLO)).toBe(before + 1);
    await sleep(PURGE_CHECK_MS);
    for (const node of nodes) expect((await get(node, RELEASE)).cacheStatus).toContain("detail=cache-api");
    expect(await originGets(RELEASE)).toBe(releaseGets);
  }, 60_000);

  it("Cloudflare's rate limit: the purge is done in R2 and every colo, and the 429 is reported with its Retry-After", async () => {
    apiAnswer = "429";
    try {
      const res = await purge({ path: "/index.html" });
      expect(res.status).toBe(200);
      const body = await res.json();
      expect(body.generation).toBeGreaterThan(0);
      expect(body.cloudflare).toMatchObject({ ok: false, status: 429, requests: 1 });
      expect(body.cloudflare.reason).toMatch(/rate limit \(429, retry after 30 s\).*repeat the purge later/);
      expect(JSON.stringify(body)).not.toContain(cf.token);
    } finally {
      apiAnswer = "ok";
    }
  });

  it("bad purges: no credentials 401, unknown prefix 404 naming it, malformed 400 naming the field; nothing purged", async () => {
    const calls = apiCalls.length;
    const noAuth = await purge({ prefix: "/releases/" }, {});
    expect(noAuth.status).toBe(401);
    const unknown = await purge({ prefix: "/no-such-release/" });
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toContain('nothing stored under prefix "/no-such-release/"');
    const malformed = await purge({ prefix: "/releases/../etc/" });
    expect(malformed.status).toBe(400);
    expect(await malformed.text()).toMatch(/^prefix: bad path/);
    expect(apiCalls.length).toBe(calls);
    await sleep(PURGE_CHECK_MS);
    for (const node of nodes) expect((await get(node, RELEASE)).cacheStatus).toContain("detail=cache-api");
  }, 30_000);
});
