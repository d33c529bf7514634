import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { chunkKey, dataKey, manifestKey, metaKey, versionKeys } from "../../../src/store/layout";
import { metaToRecord, type StoredMeta } from "../../../src/store/meta";
import { R2Tier } from "../../../src/store/r2-tier";
import { readPurgeLog } from "../../../src/store/purge-log";
import { baseFetch } from "../support";

const TOKEN = "admin-test-token-0123456789";
const bearer = { authorization: `Bearer ${TOKEN}` };
const basicAuth = { authorization: `Basic ${btoa(`ops:${TOKEN}`)}` };
const form = (fields: Record<string, string>, headers: Record<string, string> = basicAuth) => ({
  method: "POST",
  headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
  body: new URLSearchParams(fields).toString(),
});
const jsonPost = (body: unknown, headers: Record<string, string> = bearer) => ({ method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
const registry = () => {
  const ns = (env as unknown as Env).FARM_REGISTRY;
  return ns.get(ns.idFromName("farms"));
};

async function csrfOf(headers: Record<string, string>): Promise<string> {
  const html = await (await baseFetch("/_admin", { headers })).text();
  const m = /name="csrf" value="([^"]+)"/.exec(html);
  if (!m) throw new Error("no CSRF token on the page");
  return m[1]!;
}

async function adminOf(farm: string, member: string): Promise<string | undefined> {
  return (await registry().snapshot())[`${farm}/${member}`]?.admin;
}

describe("admin: member actions", () => {
  afterEach(async () => {
    for (const m of ["web1", "web2"]) await registry().setAdmin("farm_one", m, "enabled", "test cleanup");
  });

  it("API: disable, drain and enable a member; the farm view and query mode follow", async () => {
    const res = await baseFetch("/_admin/api/farms/farm_one/members/web1", jsonPost({ state: "disabled" }));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ farm: "farm_one", member: "web1", state: "disabled", event: { kind: "admin", state: "disabled" } });
    const farm = (await (await baseFetch("/_admin/api/farms/farm_one", { headers: bearer })).json()) as { members: { id: string; state: string; url: string }[] };
    expect(farm.members.map((m) => [m.id, m.state])).toEqual([["web1", "disabled"], ["web2", "enabled"]]);
    const web2 = farm.members[1]!.url;
    for (let i = 0; i < 4; i++) {
      const q = await baseFetch("/ath/balance/?farm_one", { headers: { authorization: "Bearer ath-test-token-0123456789" } });
      expect(await q.text()).toBe(`${web2}\n`);
    }
    await baseFetch("/_admin/api/farms/farm_one/members/web1", jsonPost({ state: "drain" }));
    expect(await adminOf("farm_one", "web1")).toBe("drain");
    const events = (await (await baseFetch("/_admin/api/health", { headers: bearer })).json()) as { farmEvents: { member: string; state: string }[] };
    expect(events.farmEvents.slice(0, 2).map((e) => `${e.member}:${e.state}`)).toEqual(["web1:drain", "web1:disabled"]);
  });

  it("HTML form with the page's CSRF token: 303 back to the page, which shows the new state", async () => {
    const csrf = await csrfOf(basicAuth);
    const res = await baseFetch("/_admin/members", form({ csrf, farm: "farm_one", member: "web2", state: "disabled" }));
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toMatch(/^\/_admin\?done=farm_one%2Fweb2\+is\+now\+disabled$/);
    const page = await (await baseFetch(res.headers.get("location")!, { headers: basicAuth })).text();
    expect(page).toMatch(/<tr data-member="farm_one\/web2">[\s\S]*?<td class="state disabled">disabled<\/td>/);
    expect(page).toMatch(/farm_one\/web2 is now disabled/);
  });

  it("refuses form posts without or with a wrong CSRF token, or from another origin, and stores nothing", async () => {
    const csrf = await csrfOf(basicAuth);
    const cases = [
      form({ farm: "farm_one", member: "web1", state: "disabled" }),
      form({ csrf: "forged", farm: "farm_one", member: "web1", state: "disabled" }),
      form({ csrf, farm: "farm_one", member: "web1", state: "disabled" }, { ...basicAuth, origin: "https://evil.example" }),
    ];
    for (const init of cases) {
      const res = await baseFetch("/_admin/members", init);
      expect(res.status).toBe(403);
      expect(await res.text()).toMatch(/^refused: /);
    }
    expect(await adminOf("farm_one", "web1")).toBe("enabled");
    // JSON API writes need the JSON type (a cross-site form cannot send it without a preflight).
    const plainForm = await baseFetch("/_admin/api/farms/farm_one/members/web1", { method: "POST", headers: { ...basicAuth, "content-type": "text/plain" }, body: '{"state":"disabled"}' });
    expect(plainForm.status).toBe(415);
    expect(await adminOf("farm_one", "web1")).toBe("enabled");
  });

  it("bad input: unknown farm or member, unknown state, injection attempts → 4xx with a reason, nothing stored", async () => {
    const before = Object.keys(await registry().snapshot()).sort();
    const csrf = await csrfOf(basicAuth);
    const bad: [string, RequestInit & { headers?: Record<string, string> }, number, RegExp][] = [
      ["/_admin/api/farms/nope/members/web1", jsonPost({ state: "disabled" }), 404, /unknown farm "nope"/],
      ["/_admin/api/farms/farm_one/members/web9", jsonPost({ state: "disabled" }), 404, /has no member "web9"/],
      ["/_admin/api/farms/farm_one/members/web1", jsonPost({ state: "down" }), 400, /state must be one of enabled, disabled, drain/],
      ["/_admin/api/farms/farm_one/members/web1", jsonPost(["disabled"]), 400, /JSON object/],
      ["/_admin/api/farms/farm_one/members/%3Cscript%3E", jsonPost({ state: "disabled" }), 404, /has no member/],
      ["/_admin/members", form({ csrf, farm: "farm_one", member: "<img src=x onerror=alert(1)>", state: "disabled" }), 404, /has no member/],
      ["/_admin/members", form({ csrf, farm: "<b>farm</b>", member: "web1", state: "disabled" }), 404, /unknown farm/],
      ["/_admin/members", form({ csrf, farm: "farm_one", member: "web1", state: "<script>" }), 400, /state must be/],
      ["/_admin/api/farms/nope", { headers: bearer }, 404, /unknown farm/],
      ["/_admin/api/stats?minutes=1e9", { headers: bearer }, 400, /minutes must be/],
      ["/_admin/api/stats?top=-1", { headers: bearer }, 400, /top must be/],
      ["/_admin/api/purge", jsonPost({ path: "../etc/passwd" }), 400, /path must start with \//],
      ["/_admin/api/purge", jsonPost({ path: "/a/%2e%2e/b" }), 400, /bad path/],
      ["/_admin/api/purge", jsonPost({ prefix: "/a/../b/" }), 400, /^prefix: bad path/],
      ["/_admin/api/purge", jsonPost({ prefix: "/a//b/" }), 400, /^prefix must be written as the nodes key paths: "\/a\/b\/"/],
      ["/_admin/api/purge", jsonPost({ prefix: "releases/" }), 400, /^prefix must start with \//],
      ["/_admin/api/purge", jsonPost({ prefix: "/r/?x=1" }), 400, /^prefix must not carry a query/],
      ["/_admin/api/purge", jsonPost({ path: "/a", prefix: "/b/" }), 400, /exactly one of path .* and prefix/],
      ["/_admin/api/purge", jsonPost({}), 400, /exactly one of path .* and prefix/],
      ["/_admin/api/purge", jsonPost({ prefix: 7 }), 400, /^prefix must start with \//],
      ["/_admin/nothing-here", { headers: bearer }, 404, /no such admin page/],
      ["/_admin/api/purge", jsonPost({ path: `/${"x".repeat(20_000)}` }), 413, /too large/],
    ];
    const purgeGen = (await readPurgeLog((env as unknown as Env).STORE)).gen;
    for (const [path, init, status, reason] of bad) {
      const res = await baseFetch(path, init as never);
      const text = await res.text();
      expect(res.status, path).toBe(status);
      expect(text, path).toMatch(reason);
      expect(text, path).not.toMatch(/<script>|<img|<b>/);
    }
    expect(Object.keys(await registry().snapshot()).sort()).toEqual(before);
    expect(await adminOf("farm_one", "web1")).toBe("enabled");
    // Nothing purged by a refused purge: no generation recorded.
    expect((await readPurgeLog((env as unknown as Env).STORE)).gen).toBe(purgeGen);
  });

  it("escapes what it shows: a flash message with markup is rendered as text", async () => {
    const page = await (await baseFetch(`/_admin?done=${encodeURIComponent('<script>alert("x")</script>')}`, { headers: bearer })).text();
    expect(page).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    expect(page).not.toContain('<script>alert("x")');
  });
});

describe("admin: purge", () => {
  it("removes the stored R2 copy (meta and data) of a path; a path never stored is reported as such", async () => {
    const store = (env as unknown as Env).STORE;
    const key = `/purge-test/${crypto.randomUUID()}.bin`;
    const meta: StoredMeta = { key, version: "v1abc", etag: '"e1"', lastModified: null, length: 5, contentType: "application/octet-stream", cacheControl: null, sha256: "0".repeat(64), storedAt: Date.now() };
    await store.put(dataKey(key, meta.version), "hello");
    // A copy in the layout from before chunking: one data object and its pointer.
    await store.put(metaKey(key), "", { customMetadata: metaToRecord(meta) });
    expect(await store.head(metaKey(key))).not.toBeNull();

    const res = await baseFetch("/_admin/api/purge", jsonPost({ path: key }));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ path: key, stored: true, purged: 1 });
    expect(await store.head(metaKey(key))).toBeNull();
    expect(await store.head(dataKey(key, meta.version))).toBeNull();

    const again = await baseFetch("/_admin/api/purge", jsonPost({ path: key }));
    expect(await again.json()).toMatchObject({ path: key, stored: false, purged: 0 });
  });

  it("removes every chunk and the manifest of a chunked copy", async () => {
    const store = (env as unknown as Env).STORE;
    const key = `/purge-test/${crypto.randomUUID()}.bin`;
    const meta = { key, version: "v2abc", etag: '"e2"', lastModified: null, length: 10, contentType: null, cacheControl: null, sha256: "", storedAt: Date.now(), chunkSize: 4, fill: "f1" };
    for (let i = 0; i < 3; i++) await store.put(chunkKey(key, meta.version, "f1", i), "abcd".slice(0, i === 2 ? 2 : 4));
    const manifest = { key, version: meta.version, fill: "f1", length: 10, chunkSize: 4, etag: meta.etag, lastModified: null, contentType: null, chunks: ["a", "b", "c"], sha256: "" };
    expect(await new R2Tier(store).commit(meta, manifest, null)).toMatchObject({ ok: true });
    expect(await store.head(manifestKey(key, meta.version, "f1"))).not.toBeNull();
    expect(versionKeys(meta)).toHaveLength(4);

    const res = await baseFetch("/_admin/api/purge", jsonPost({ path: key }));
    expect(await res.json()).toMatchObject({ path: key, stored: true });
    for (const k of [metaKey(key), ...versionKeys(meta)]) expect(await store.head(k)).toBeNull();
  });

  it("by prefix: every copy under it, recorded for every colo; an empty prefix is 404 naming it; no credentials is 401 and purges nothing", async () => {
    const store = (env as unknown as Env).STORE;
    const dir = `/purge-test/${crypto.randomUUID()}/`;
    const keys = [`${dir}a.iso`, `${dir}sub/b.iso`];
    for (const key of keys) {
      const meta: StoredMeta = { key, version: "v1abc", etag: '"e1"', lastModified: null, length: 5, contentType: null, cacheControl: null, sha256: "", storedAt: Date.now() };
      await store.put(dataKey(key, meta.version), "hello");
      await store.put(metaKey(key), "", { customMetadata: metaToRecord(meta) });
    }
    const gen = (await readPurgeLog(store)).gen;
    const refused = await baseFetch("/_admin/api/purge", jsonPost({ prefix: dir }, {}));
    expect(refused.status).toBe(401);
    expect(await store.head(metaKey(keys[0]!))).not.toBeNull();
    expect((await readPurgeLog(store)).gen).toBe(gen);

    const res = await baseFetch("/_admin/api/purge", jsonPost({ prefix: dir }));
    expect(res.status).toBe(200);
    const body = (await res.json()) as { generation: number };
    expect(body).toEqual({ prefix: dir, purged: 2, more: false, generation: gen + 1 });
    for (const key of keys) expect(await store.head(metaKey(key))).toBeNull();
    expect((await readPurgeLog(store)).entries.at(-1)).toEqual({ gen: gen + 1, match: dir, prefix: true });

    const empty = await baseFetch("/_admin/api/purge", jsonPost({ prefix: dir }));
    expect(empty.status).toBe(404);
    expect((await empty.text()).trim()).toBe(`nothing stored under prefix "${dir}"`);
    expect((await readPurgeLog(store)).gen).toBe(gen + 1);
  });
});
