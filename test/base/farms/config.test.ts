import { describe, expect, it } from "vitest";
import { parseFarmsConfig, type FarmsConfig } from "../../../src/config/farms-config";
import { ConfigError } from "../../../src/config/fields";
import { parseProxyRoutes } from "../../../src/config/proxy-config";
import { AUTH, freshBase } from "./support";

/** The field a ConfigError names (and its message names it too). */
function fieldOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    expect(e.message.startsWith(`invalid config ${e.field}: `)).toBe(true);
    return e.field;
  }
  throw new Error("no ConfigError");
}

const farmsOf = (farms: unknown, extra: Record<string, unknown> = {}) => parseFarmsConfig({ FARMS: typeof farms === "string" ? farms : JSON.stringify(farms), ...extra });
const one = (entry: Record<string, unknown>) => ({ f: { members: ["http://10.0.0.1:8080"], ...entry } });

describe("FARMS: valid configuration", () => {
  it("parses every field, with defaults for the rest", () => {
    const config = farmsOf(
      {
        farm_one: {
          members: ["http://10.0.0.1:8080/", { id: "web2", url: "http://10.0.0.2:8080", weight: 2 }],
          fallbackUrl: "https://sorry.example.com/",
          health: { path: "/health", expect: 204, rise: 3 },
          qos: ["farm_gold"],
        },
        farm_gold: { algorithm: "least-loaded", loadMetric: "conns", statsTtlSeconds: 30, members: "http://10.0.1.1, http://10.0.1.2" },
      },
      { ATH_TOKEN: "0123456789abcdef", ATH_COOKIE: "sess", ATH_COOKIE_KEYS: "k1:0123456789abcdef" },
    );
    expect([...config.farms.keys()]).toEqual(["farm_one", "farm_gold"]);
    expect(config.farms.get("farm_one")).toEqual({
      name: "farm_one",
      algorithm: "round-robin",
      loadMetric: "load",
      members: [
        { id: "10.0.0.1:8080", url: "http://10.0.0.1:8080", weight: 1 },
        { id: "web2", url: "http://10.0.0.2:8080", weight: 2 },
      ],
      fallbackUrl: "https://sorry.example.com",
      statsTtlSeconds: 60,
      health: { method: "GET", path: "/health", expect: [204], intervalSeconds: 60, timeoutMs: 3000, rise: 3, fall: 3 },
      qos: ["farm_gold"],
    });
    expect(config.farms.get("farm_gold")).toEqual({
      name: "farm_gold",
      algorithm: "least-loaded",
      loadMetric: "conns",
      members: [
        { id: "10.0.1.1", url: "http://10.0.1.1", weight: 1 },
        { id: "10.0.1.2", url: "http://10.0.1.2", weight: 1 },
      ],
      fallbackUrl: null,
      statsTtlSeconds: 30,
      health: null,
      qos: [],
    });
    expect(config).toMatchObject({ athToken: "0123456789abcdef", cookieName: "sess", cookieKeys: "k1:0123456789abcdef" });
  });

  it("takes FARMS as an object too (wrangler.toml), and none at all", () => {
    expect(parseFarmsConfig({ FARMS: one({}) }).farms.get("f")?.members).toEqual([{ id: "10.0.0.1:8080", url: "http://10.0.0.1:8080", weight: 1 }]);
    const none: FarmsConfig = parseFarmsConfig({});
    expect(none).toEqual({ farms: new Map(), athToken: null, cookieName: "athena", cookieKeys: "" });
    expect(parseFarmsConfig({ FARMS: "  ", ATH_TOKEN: "" }).athToken).toBeNull();
  });
});

describe("FARMS: each bad field is refused by name", () => {
  const cases: [string, () => unknown, string][] = [
    ["not JSON", () => farmsOf("{farm_one:"), "FARMS"],
    ["an array", () => farmsOf([]), "FARMS"],
    ["a farm that is not an object", () => farmsOf({ f: ["http://a"] }), "FARMS.f"],
    ["an unknown farm field", () => farmsOf(one({ algoritm: "hash" })), "FARMS.f.algoritm"],
    ["a bad algorithm", () => farmsOf(one({ algorithm: "fastest" })), "FARMS.f.algorithm"],
    ["the proxy-only balancer fair", () => farmsOf(one({ algorithm: "fair" })), "FARMS.f.algorithm"],
    ["a bad loadMetric", () => farmsOf(one({ loadMetric: "cpu" })), "FARMS.f.loadMetric"],
    ["a member URL with another scheme", () => farmsOf({ f: { members: ["http://10.0.0.1", "ftp://10.0.0.2"] } }), "FARMS.f.members[1].url"],
    ["a member that is no URL", () => farmsOf({ f: { members: [{ id: "a", url: "web1" }] } }), "FARMS.f.members[0].url"],
    ["a member URL with credentials", () => farmsOf({ f: { members: ["http://u:p@10.0.0.1"] } }), "FARMS.f.members[0].url"],
    ["a bad member id", () => farmsOf({ f: { members: [{ id: "a/b", url: "http://a" }] } }), "FARMS.f.members[0].id"],
    ["a member id used twice", () => farmsOf({ f: { members: [{ id: "a", url: "http://a" }, { id: "a", url: "http://b" }] } }), "FARMS.f.members[1].id"],
    ["a zero weight", () => farmsOf({ f: { members: [{ url: "http://a", weight: 0 }] } }), "FARMS.f.members[0].weight"],
    ["an unknown member field", () => farmsOf({ f: { members: [{ url: "http://a", wieght: 2 }] } }), "FARMS.f.members[0].wieght"],
    ["empty members", () => farmsOf({ f: { members: [] } }), "FARMS.f.members"],
    ["no members", () => farmsOf({ f: { algorithm: "hash" } }), "FARMS.f.members"],
    ["an empty expect list", () => farmsOf(one({ health: { expect: [] } })), "FARMS.f.health.expect"],
    ["an expect status out of range", () => farmsOf(one({ health: { expect: [200, 600] } })), "FARMS.f.health.expect"],
    ["an expect status as a string", () => farmsOf(one({ health: { expect: ["200"] } })), "FARMS.f.health.expect"],
    ["a health method other than GET/HEAD", () => farmsOf(one({ health: { method: "POST" } })), "FARMS.f.health.method"],
    ["a health path without /", () => farmsOf(one({ health: { path: "health" } })), "FARMS.f.health.path"],
    ["rise 0", () => farmsOf(one({ health: { rise: 0 } })), "FARMS.f.health.rise"],
    ["an unknown health field", () => farmsOf(one({ health: { interval: 5 } })), "FARMS.f.health.interval"],
    ["a health block that is not an object", () => farmsOf(one({ health: true })), "FARMS.f.health"],
    ["statsTtlSeconds 0", () => farmsOf(one({ statsTtlSeconds: 0 })), "FARMS.f.statsTtlSeconds"],
    ["statsTtlSeconds as a string", () => farmsOf(one({ statsTtlSeconds: "60" })), "FARMS.f.statsTtlSeconds"],
    ["a fallbackUrl with a query", () => farmsOf(one({ fallbackUrl: "https://sorry.example.com/?x" })), "FARMS.f.fallbackUrl"],
    ["a fallbackUrl that is not http(s)", () => farmsOf(one({ fallbackUrl: "ftp://sorry.example.com" })), "FARMS.f.fallbackUrl"],
    ["an unknown qos farm", () => farmsOf({ ...one({ qos: ["g", "farm_nope"] }), g: { members: ["http://b"] } }), "FARMS.f.qos[1]"],
    ["qos that is not a list", () => farmsOf(one({ qos: "g" })), "FARMS.f.qos"],
    ["a farm name with a space", () => farmsOf({ "farm one": { members: ["http://a"] } }), "FARMS.farm one"],
    ["a farm name starting with a digit", () => farmsOf({ "1farm": { members: ["http://a"] } }), "FARMS.1farm"],
    ["a farm name of 65 characters", () => farmsOf({ [`f${"x".repeat(64)}`]: { members: ["http://a"] } }), `FARMS.f${"x".repeat(64)}`],
    ["ATH_TOKEN of 15 characters", () => parseFarmsConfig({ ATH_TOKEN: "0123456789abcde" }), "ATH_TOKEN"],
    ["ATH_COOKIE with a space", () => parseFarmsConfig({ ATH_COOKIE: "my cookie" }), "ATH_COOKIE"],
    ["ATH_COOKIE with =", () => parseFarmsConfig({ ATH_COOKIE: "a=b" }), "ATH_COOKIE"],
    ["ATH_COOKIE with ;", () => parseFarmsConfig({ ATH_COOKIE: "a;b" }), "ATH_COOKIE"],
  ];
  it.each(cases)("%s", (_what, fn, field) => {
    expect(fieldOf(fn)).toBe(field);
  });

  it("the base answers 500 naming the field while the config is broken", async () => {
    let res = await freshBase({ FARMS: JSON.stringify(one({ algorithm: "fastest" })) })("/ath/balance/?f", { headers: AUTH });
    expect(res.status).toBe(500);
    expect(res.text).toContain("invalid config FARMS.f.algorithm:");
    res = await freshBase({ ATH_TOKEN: "too-short" })("/ath/balance/?farm_one", { headers: AUTH });
    expect(res.status).toBe(500);
    expect(res.text).toContain("invalid config ATH_TOKEN:");
    res = await freshBase({ ATH_COOKIE_KEYS: "no-secret" })("/ath/balance/?farm_one", { headers: AUTH });
    expect(res.status).toBe(500);
    expect(res.text).toContain("invalid config ATH_COOKIE_KEYS:");
  });
});

describe("PROXY_ROUTES: a backend naming a farm", () => {
  const farms = farmsOf({ farm_one: { members: ["http://10.0.0.1", "http://10.0.0.2"] }, Farm_Two: { members: ["http://10.0.1.1"] } }).farms;
  const routes = (spec: Record<string, unknown>) => parseProxyRoutes({ PROXY_ROUTES: JSON.stringify([spec]) }, "PROXY_ROUTES", farms);

  it('"http://farm_one/reports" becomes route.farm with the path, no backends, retries over the farm', () => {
    const [route] = routes({ prefix: "/reports/", backends: "http://farm_one/reports" });
    expect(route?.farm).toEqual({ name: "farm_one", path: "/reports" });
    expect(route?.backends).toEqual([]);
    expect(route?.retries).toBe(1);
    expect(routes({ prefix: "/r/", backends: ["http://farm_one/reports/"] })[0]?.farm).toEqual({ name: "farm_one", path: "/reports" });
    expect(routes({ prefix: "/r/", backends: "http://farm_one" })[0]?.farm).toEqual({ name: "farm_one", path: "" });
    // Farm names are case-sensitive, though URL hosts are not.
    expect(routes({ prefix: "/r/", backends: "http://Farm_Two/x" })[0]?.farm).toEqual({ name: "Farm_Two", path: "/x" });
  });

  it("with a port, a query or an unknown name it is a normal backend", () => {
    let [route] = routes({ prefix: "/r/", backends: "http://farm_one:8080/reports" });
    expect(route?.farm).toBeNull();
    expect(route?.backends).toEqual([{ id: "farm_one:8080", url: "http://farm_one:8080/reports", weight: 1 }]);
    // The scheme's default port, which URL parsing drops, still means a real host.
    for (const url of ["http://farm_one:80/reports", "https://farm_one:443/reports"]) expect(routes({ prefix: "/r/", backends: url })[0]?.farm, url).toBeNull();
    [route] = routes({ prefix: "/r/", backends: "http://farm_nope/reports" });
    expect(route?.farm).toBeNull();
    expect(route?.backends.map((b) => b.url)).toEqual(["http://farm_nope/reports"]);
    [route] = routes({ prefix: "/r/", backends: ["http://farm_one/a", "http://10.0.0.9"] });
    expect(route?.farm).toBeNull();
    expect(route?.backends).toHaveLength(2);
  });

  it("refuses a balancer on a farm route (the farm's algorithm balances)", () => {
    expect(fieldOf(() => routes({ prefix: "/r/", backends: "http://farm_one/r", balancer: "hash" }))).toBe("PROXY_ROUTES[0].balancer");
    // Without farms configured the same text is a plain backend, and a balancer is fine.
    expect(parseProxyRoutes({ PROXY_ROUTES: JSON.stringify([{ prefix: "/r/", backends: "http://farm_one/r", balancer: "hash" }]) })[0]?.farm).toBeNull();
  });

  it("the base refuses the same route at load time", async () => {
    const res = await freshBase({ PROXY_ROUTES: JSON.stringify([{ prefix: "/reports/", backends: "http://farm_one/reports", balancer: "least-loaded" }]) })("/reports/x");
    expect(res.status).toBe(500);
    expect(res.text).toContain("invalid config PROXY_ROUTES[0].balancer:");
  });
});
