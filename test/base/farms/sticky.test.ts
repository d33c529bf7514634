// Sticky sessions and QoS end to end: cookies signed as a backend would sign them, sent
// to query mode and to a farm proxy route of the real base.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { backend, echo } from "../proxy/support";
import { AUTH, balanceMany, C1, freshBase, registry, resetFarms, stickyCookie, URLS, type Base } from "./support";

beforeEach(resetFarms);
afterEach(resetFarms);

const ROUTES = { PROXY_ROUTES: JSON.stringify([{ prefix: "/reports/", backends: "http://farm_one/reports" }]) };

/** Which echo backend answered each of `n` proxied requests. */
async function proxied(base: Base, n: number, cookie?: string): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await base(`/reports/r${i}`, { headers: cookie ? { cookie } : {} });
    expect(res.status, res.text).toBe(200);
    const seen = await echo(new Response(res.text));
    expect(seen.path).toBe(`/reports/reports/r${i}`);
    out.push(seen.backend);
  }
  return out;
}

describe("sticky cookie: query mode", () => {
  it("without a cookie farm_one alternates; with one every answer is its member", async () => {
    expect(await balanceMany(freshBase(), "farm_one", 4)).toEqual([URLS.web1, URLS.web2, URLS.web1, URLS.web2]);
    for (const member of ["web1", "web2"] as const) {
      const cookie = await stickyCookie({ farm: "farm_one", member });
      expect(await balanceMany(freshBase(), "farm_one", 5, { cookie: `lang=en; ${cookie}` })).toEqual(Array(5).fill(URLS[member]));
    }
  });

  it("a cookie signed with the previous key (c1) still sticks", async () => {
    const cookie = await stickyCookie({ farm: "farm_one", member: "web2" }, C1);
    expect(await balanceMany(freshBase(), "farm_one", 4, { cookie })).toEqual(Array(4).fill(URLS.web2));
  });

  it("a tampered, expired, foreign-key or unknown-member cookie is ignored: normal balancing, never an error", async () => {
    const good = await stickyCookie({ farm: "farm_one", member: "web2" });
    const bad = [
      good.replace("~web2~", "~web1~"),
      good.slice(0, -2) + (good.endsWith("AA") ? "BA" : "AA"),
      await stickyCookie({ farm: "farm_one", member: "web2", expires: Math.floor(Date.now() / 1000) - 1 }),
      await stickyCookie({ farm: "farm_one", member: "web2" }, { id: "c9", secret: "someone-elses-secret" }),
      await stickyCookie({ farm: "farm_one", member: "web9" }),
      "athena=v1~farm_one~web2",
      `athena=${"x".repeat(4000)}`,
    ];
    for (const cookie of bad) {
      const base = freshBase();
      const res = await base("/ath/balance/?farm_one", { headers: { ...AUTH, cookie } });
      expect(res.status, cookie).toBe(200);
      expect([res.text.trim(), ...(await balanceMany(base, "farm_one", 2, { cookie }))], cookie).toEqual([URLS.web1, URLS.web2, URLS.web1]);
    }
  });

  it("ATH_COOKIE names the cookie that is read", async () => {
    const value = (await stickyCookie({ farm: "farm_one", member: "web2" })).slice("athena=".length);
    expect(await balanceMany(freshBase({ ATH_COOKIE: "sess" }), "farm_one", 3, { cookie: `sess=${value}` })).toEqual(Array(3).fill(URLS.web2));
    expect(await balanceMany(freshBase({ ATH_COOKIE: "sess" }), "farm_one", 2, { cookie: `athena=${value}` })).toEqual([URLS.web1, URLS.web2]);
  });

  it("sticky to a draining member still works; new clients avoid it", async () => {
    await registry().setAdmin("farm_one", "web2", "drain", "test");
    const cookie = await stickyCookie({ farm: "farm_one", member: "web2" });
    const base = freshBase();
    expect(await balanceMany(base, "farm_one", 3, { cookie })).toEqual(Array(3).fill(URLS.web2));
    expect(await balanceMany(base, "farm_one", 3)).toEqual(Array(3).fill(URLS.web1));
  });

  it("sticky to a disabled or down member falls back to normal balancing", async () => {
    const cookie = await stickyCookie({ farm: "farm_one", member: "web2" });
    await registry().setAdmin("farm_one", "web2", "disabled", "test");
    expect(await balanceMany(freshBase(), "farm_one", 3, { cookie })).toEqual(Array(3).fill(URLS.web1));
    await registry().setAdmin("farm_one", "web2", "enabled", "test");
    await registry().observe("farm_one", [{ member: "web2", ok: false, detail: "refused", source: "active" }], { rise: 2, fall: 1 });
    expect(await balanceMany(freshBase(), "farm_one", 3, { cookie })).toEqual(Array(3).fill(URLS.web1));
  });

  it("a QoS cookie naming farm_gold (in farm_one's qos) moves farm_one requests to gold1", async () => {
    for (const member of ["", "gold1"]) {
      const cookie = await stickyCookie({ farm: "farm_gold", member });
      expect(await balanceMany(freshBase(), "farm_one", 3, { cookie })).toEqual(Array(3).fill(URLS.gold1));
    }
    // farm_stats is not in farm_one's qos: ignored.
    const other = await stickyCookie({ farm: "farm_stats", member: "s3" });
    expect(await balanceMany(freshBase(), "farm_one", 2, { cookie: other })).toEqual([URLS.web1, URLS.web2]);
    // gold1 unusable: the request stays in farm_one.
    await registry().setAdmin("farm_gold", "gold1", "disabled", "test");
    const gold = await stickyCookie({ farm: "farm_gold", member: "" });
    expect(await balanceMany(freshBase(), "farm_one", 2, { cookie: gold })).toEqual([URLS.web1, URLS.web2]);
  });
});

describe("sticky cookie: farm proxy route", () => {
  it("a valid cookie keeps every request on its member; without one both members share", async () => {
    expect(await proxied(freshBase(ROUTES), 4)).toEqual(["b0", "b1", "b0", "b1"]);
    const cookie = await stickyCookie({ farm: "farm_one", member: "web2" });
    expect(await proxied(freshBase(ROUTES), 5, cookie)).toEqual(Array(5).fill("b1"));
  });

  it("a tampered cookie gets normal balancing and a normal answer", async () => {
    const cookie = (await stickyCookie({ farm: "farm_one", member: "web2" })).replace("~web2~", "~web1~");
    expect(await proxied(freshBase(ROUTES), 4, cookie)).toEqual(["b0", "b1", "b0", "b1"]);
  });

  it("sticky to a draining member works through the proxy too; a disabled one falls back", async () => {
    const cookie = await stickyCookie({ farm: "farm_one", member: "web2" });
    await registry().setAdmin("farm_one", "web2", "drain", "test");
    expect(await proxied(freshBase(ROUTES), 3, cookie)).toEqual(["b1", "b1", "b1"]);
    expect(await proxied(freshBase(ROUTES), 2)).toEqual(["b0", "b0"]);
    await registry().setAdmin("farm_one", "web2", "disabled", "test");
    expect(await proxied(freshBase(ROUTES), 3, cookie)).toEqual(["b0", "b0", "b0"]);
  });

  it("a QoS cookie moves the request to farm_gold's member, path kept", async () => {
    const cookie = await stickyCookie({ farm: "farm_gold", member: "" });
    expect(await proxied(freshBase(ROUTES), 3, cookie)).toEqual(["b2", "b2", "b2"]);
  });

  it("when farm_gold's member is really down, a QoS client fails over to its own farm_one members", async () => {
    const cookie = await stickyCookie({ farm: "farm_gold", member: "" });
    await backend(2, "down");
    const seen = await proxied(freshBase(ROUTES), 2, cookie);
    expect(seen.every((b) => b === "b0" || b === "b1"), seen.join()).toBe(true);
  });
});
