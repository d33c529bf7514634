// GET /ath/balance/?farm: mod_athena's query mode, the chosen member's URL as text.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FARM_VIEW_TTL_MS } from "../../../src/farms/runtime";
import { AUTH, balance, balanceMany, FALLBACK, freshBase, registry, resetFarms, sleep, TOKEN, URLS } from "./support";

beforeEach(resetFarms);
afterEach(resetFarms);

describe("query mode: answers", () => {
  it("?farm_one: the member's URL as text/plain, round-robin per deployment", async () => {
    const base = freshBase();
    const res = await base("/ath/balance/?farm_one", { headers: AUTH });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.text).toBe(`${URLS.web1}\n`);
    expect(await balanceMany(base, "farm_one", 3)).toEqual([URLS.web2, URLS.web1, URLS.web2]);
  });

  it("several farms: one line each, in the order asked (& or ,)", async () => {
    const base = freshBase();
    expect(await balance(base, "farm_one&farm_gold")).toBe(`${URLS.web1}\n${URLS.gold1}\n`);
    expect(await balance(base, "farm_gold,farm_one")).toBe(`${URLS.gold1}\n${URLS.web2}\n`);
    const many = await balance(base, Array(32).fill("farm_gold").join("&"));
    expect(many).toBe(`${URLS.gold1}\n`.repeat(32));
  });

  it("token= in the query is the credential, not a farm; Basic works too", async () => {
    const base = freshBase();
    const res = await base(`/ath/balance/?farm_gold&token=${TOKEN}`);
    expect(res.status).toBe(200);
    expect(res.text).toBe(`${URLS.gold1}\n`);
    const basic = await base("/ath/balance/?farm_gold", { headers: { authorization: `Basic ${btoa(`x:${TOKEN}`)}` } });
    expect(basic.text).toBe(`${URLS.gold1}\n`);
  });
});

describe("query mode: refusals", () => {
  it("an unknown farm: 404 with the reason", async () => {
    const res = await freshBase()("/ath/balance/?farm_one&farm_nope", { headers: AUTH });
    expect(res.status).toBe(404);
    expect(res.text).toBe('unknown farm "farm_nope"\n');
  });

  it.each([["farm one"], ["<script>alert(1)</script>"], [""], ["farm_one&farm one"], ["farm_one="], ["farm%5Fone"], ["-farm"], ["f".repeat(65)]])("malformed ?%s: 400", async (query) => {
    const res = await freshBase()(`/ath/balance/?${query}`, { headers: AUTH });
    expect(res.status, res.text).toBe(400);
    expect(res.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(res.text).not.toContain("<script>");
  });

  it("no query at all, or more than 32 farms: 400", async () => {
    const base = freshBase();
    let res = await base("/ath/balance/", { headers: AUTH });
    expect(res.status).toBe(400);
    expect(res.text).toContain("name a farm");
    res = await base(`/ath/balance/?token=${TOKEN}`);
    expect(res.status).toBe(400);
    res = await base(`/ath/balance/?${Array(33).fill("farm_one").join("&")}`, { headers: AUTH });
    expect(res.status).toBe(400);
    expect(res.text).toContain("at most 32 farms");
  });

  it("no token or a wrong one: 401 with WWW-Authenticate; ATH_TOKEN unset: 503", async () => {
    const base = freshBase();
    const tries: Record<string, string>[] = [{}, { authorization: "Bearer wrong-token-0123456789" }, { authorization: `Basic ${btoa("x:nope")}` }];
    for (const headers of tries) {
      const res = await base("/ath/balance/?farm_one", { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toBe('Bearer realm="ath"');
      expect(res.text).not.toContain("127.0.0.1");
    }
    expect((await base("/ath/balance/?farm_one&token=wrong-token-0123456789")).status).toBe(401);
    const off = await freshBase({ ATH_TOKEN: "" })("/ath/balance/?farm_one", { headers: AUTH });
    expect(off.status).toBe(503);
    expect(off.text).not.toContain("127.0.0.1");
  });
});

describe("query mode: member states", () => {
  it("a disabled member is no longer returned", async () => {
    await registry().setAdmin("farm_one", "web2", "disabled", "test");
    expect(await balanceMany(freshBase(), "farm_one", 4)).toEqual([URLS.web1, URLS.web1, URLS.web1, URLS.web1]);
  });

  it("a draining member takes no new clients", async () => {
    await registry().setAdmin("farm_one", "web1", "drain", "test");
    expect(await balanceMany(freshBase(), "farm_one", 3)).toEqual([URLS.web2, URLS.web2, URLS.web2]);
  });

  it("a running deployment sees a change made elsewhere after its view's TTL", async () => {
    const base = freshBase();
    expect(await balanceMany(base, "farm_one", 2)).toEqual([URLS.web1, URLS.web2]);
    await registry().setAdmin("farm_one", "web2", "disabled", "test");
    await sleep(FARM_VIEW_TTL_MS + 100);
    // The first request after the TTL may still answer from the old copy while it refreshes.
    await balance(base, "farm_one");
    expect(await balanceMany(base, "farm_one", 3)).toEqual([URLS.web1, URLS.web1, URLS.web1]);
  });

  it("every member disabled or down: the farm's fallbackUrl", async () => {
    await registry().setAdmin("farm_one", "web1", "disabled", "test");
    await registry().observe("farm_one", [{ member: "web2", ok: false, detail: "refused", source: "active" }], { rise: 1, fall: 1 });
    const base = freshBase();
    expect(await balance(base, "farm_one")).toBe(`${FALLBACK}\n`);
    // Other farms in the same query are unaffected.
    expect(await balance(base, "farm_gold&farm_one")).toBe(`${URLS.gold1}\n${FALLBACK}\n`);
  });

  it("nobody usable and no fallbackUrl: 503 with every member's reason", async () => {
    await registry().setAdmin("farm_stats", "s1", "disabled", "test");
    await registry().setAdmin("farm_stats", "s2", "drain", "test");
    await registry().observe("farm_stats", [{ member: "s3", ok: false, detail: "HTTP 500", source: "active" }], { rise: 1, fall: 1 });
    const res = await freshBase()("/ath/balance/?farm_stats", { headers: AUTH });
    expect(res.status).toBe(503);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.text).toBe("farm farm_stats has no usable member and no fallbackUrl (s1: disabled; s2: draining; s3: down: down after 1 failed active check(s): HTTP 500)\n");
  });
});

describe("the /ath/ namespace", () => {
  it("answers /ath/balance without the slash too, and 404 for anything else under /ath/ (never the origin)", async () => {
    const base = freshBase();
    expect((await base("/ath/balance?farm_one", { headers: AUTH })).status).toBe(200);
    for (const path of ["/ath/", "/ath/nothing", "/ath/update/extra"]) {
      const res = await base(path, { headers: AUTH });
      expect(res.status, path).toBe(404);
      expect(res.text, path).toMatch(/no such \/ath endpoint/);
    }
    expect((await base("/ath/update", { method: "POST", headers: AUTH })).status).toBe(404);
  });
});
