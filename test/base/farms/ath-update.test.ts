// GET /ath/update: a member's agent pushes its stats; anything odd is refused whole and
// nothing reaches the registry.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AUTH, freshBase, registry, resetFarms, TOKEN } from "./support";

beforeEach(resetFarms);
afterEach(resetFarms);

const update = (query: string, headers: Record<string, string> = AUTH) => freshBase()(`/ath/update?${query}`, { headers });

describe("/ath/update: storing", () => {
  it("stores load and conns with the time of receipt", async () => {
    const before = Date.now();
    const res = await update("farm=farm_stats&member=s2&load=0.42&conns=17");
    expect(res.status, res.text).toBe(200);
    expect(res.text).toBe("stored farm_stats/s2: load=0.42 conns=17\n");
    expect(res.headers.get("cache-control")).toBe("no-store");
    const snap = await registry().snapshot();
    expect(Object.keys(snap)).toEqual(["farm_stats/s2"]);
    const stats = snap["farm_stats/s2"]!.stats!;
    expect(stats).toMatchObject({ load: 0.42, conns: 17 });
    expect(stats.at).toBeGreaterThanOrEqual(before);
    expect(stats.at).toBeLessThanOrEqual(Date.now());
  });

  it("either value alone; the newest report replaces the last", async () => {
    expect((await update("farm=farm_one&member=web1&conns=5")).text).toBe("stored farm_one/web1: load=- conns=5\n");
    expect((await registry().snapshot())["farm_one/web1"]?.stats).toMatchObject({ load: null, conns: 5 });
    expect((await update("member=web1&load=1000000&farm=farm_one")).status).toBe(200);
    expect((await registry().snapshot())["farm_one/web1"]?.stats).toMatchObject({ load: 1_000_000, conns: null });
    expect((await update("farm=farm_one&member=web1&load=0&conns=999999999")).status).toBe(200);
    expect((await registry().snapshot())["farm_one/web1"]?.stats).toMatchObject({ load: 0, conns: 999_999_999 });
  });

  it("accepts the token as token=, as a bearer token and as a Basic password", async () => {
    expect((await update(`farm=farm_gold&member=gold1&load=1&token=${TOKEN}`, {})).status).toBe(200);
    expect((await update("farm=farm_gold&member=gold1&load=2", { authorization: `Basic ${btoa(`agent:${TOKEN}`)}` })).status).toBe(200);
    expect((await registry().snapshot())["farm_gold/gold1"]?.stats?.load).toBe(2);
  });
});

describe("/ath/update: refusals store nothing", () => {
  async function refused(query: string, status: number, reason: RegExp | string, headers: Record<string, string> = AUTH): Promise<void> {
    const res = await update(query, headers);
    expect(res.status, `${query}: ${res.text}`).toBe(status);
    expect(res.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    if (typeof reason === "string") expect(res.text).toContain(reason);
    else expect(res.text).toMatch(reason);
    expect(await registry().snapshot(), query).toEqual({});
  }

  it("unknown farm or member: 404", async () => {
    await refused("farm=farm_nope&member=web1&load=1", 404, 'unknown farm "farm_nope"');
    await refused("farm=farm_one&member=s1&load=1", 404, 'farm farm_one has no member "s1"');
    await refused("farm=farm_one&member=WEB1&load=1", 404, "has no member");
  });

  it.each([
    ["load", "1e309"],
    ["load", "1e3"],
    ["load", "99999999999"],
    ["load", "1000000.5"],
    ["load", "-1"],
    ["load", "+1"],
    ["load", "NaN"],
    ["load", "Infinity"],
    ["load", "0x10"],
    ["load", ""],
    ["load", ".5"],
    ["load", "1."],
    ["load", "0.1234567"],
    ["load", " 1"],
    ["conns", "99999999999"],
    ["conns", "1.5"],
    ["conns", "-1"],
    ["conns", "1e3"],
    ["conns", "0x10"],
    ["conns", "Infinity"],
  ])("%s=%s: 400", async (name, value) => {
    await refused(`farm=farm_stats&member=s1&${name}=${encodeURIComponent(value)}`, 400, `${name} must be`);
  });

  it("a parameter twice, an unknown parameter or nothing to store: 400", async () => {
    await refused("farm=farm_stats&member=s1&load=1&load=2", 400, 'parameter "load" is given more than once');
    await refused("farm=farm_stats&farm=farm_one&member=s1&load=1", 400, 'parameter "farm" is given more than once');
    await refused(`farm=farm_stats&member=s1&load=1&token=${TOKEN}&token=${TOKEN}`, 400, 'parameter "token" is given more than once');
    await refused("farm=farm_stats&member=s1&load=1&cpu=3", 400, 'unknown parameter "cpu"');
    await refused("farm=farm_stats&member=s1", 400, "nothing to store");
    await refused("farm=farm_stats&load=1", 400, "farm and member are required");
    await refused("", 400, "farm and member are required");
  });

  it("no token, a wrong one or ATH_TOKEN unset: 401 / 503", async () => {
    const res = await update("farm=farm_stats&member=s1&load=1", {});
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe('Bearer realm="ath"');
    await refused("farm=farm_stats&member=s1&load=1", 401, "a valid ATH_TOKEN is required", {});
    await refused("farm=farm_stats&member=s1&load=1&token=wrong-token-0123456789", 401, "ATH_TOKEN", {});
    await refused("farm=farm_stats&member=s1&load=1", 401, "ATH_TOKEN", { authorization: "Bearer wrong-token-0123456789" });
    // A wrong header is not rescued by a right query token.
    await refused(`farm=farm_stats&member=s1&load=1&token=${TOKEN}`, 401, "ATH_TOKEN", { authorization: "Bearer wrong" });
    const off = await freshBase({ ATH_TOKEN: "" })("/ath/update?farm=farm_stats&member=s1&load=1", { headers: AUTH });
    expect(off.status).toBe(503);
    expect(off.text).toContain("set the ATH_TOKEN secret");
    expect(await registry().snapshot()).toEqual({});
  });
});
