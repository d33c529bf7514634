// chooseMember on its own: configuration parsed as FARMS would be, registry records as
// the FarmRegistry stores them (plain data: the function takes no platform object).
import { describe, expect, it } from "vitest";
import { parseFarmsConfig } from "../../../src/config/farms-config";
import { chooseMember, type ChooseContext } from "../../../src/farms/choose";
import type { StickyClaim } from "../../../src/farms/sticky-cookie";
import type { MemberRecord } from "../../../src/farms/types";

const config = parseFarmsConfig({
  FARMS: JSON.stringify({
    rr: { members: [{ id: "a", url: "http://a" }, { id: "b", url: "http://b" }, { id: "c", url: "http://c" }], fallbackUrl: "https://sorry.example", qos: ["gold", "solo"] },
    ll: { algorithm: "least-loaded", statsTtlSeconds: 10, members: [{ id: "x", url: "http://x" }, { id: "y", url: "http://y" }, { id: "z", url: "http://z" }] },
    conns: { algorithm: "least-loaded", loadMetric: "conns", members: [{ id: "p", url: "http://p" }, { id: "q", url: "http://q" }] },
    gold: { members: [{ id: "g1", url: "http://g1" }, { id: "g2", url: "http://g2" }] },
    solo: { members: [{ id: "s", url: "http://s" }] },
  }),
});
const farm = (name: string) => config.farms.get(name)!;
const NOW = 1_700_000_000_000;

function rec(r: Partial<MemberRecord>): MemberRecord {
  return { admin: "enabled", healthy: true, reason: "", successes: 0, failures: 0, checkedAt: 0, changedAt: 0, stats: null, ...r };
}
const ctx = (over: Partial<ChooseContext> = {}): ChooseContext => ({ path: "/", random: () => 0.5, sequence: 0, now: NOW, ...over });
const claim = (farmName: string, member: string): StickyClaim => ({ farm: farmName, member, expires: NOW / 1000 + 60 });
const ids = (c: ReturnType<typeof chooseMember>) => c.ranked.map((m) => m.id);

describe("chooseMember: eligibility", () => {
  it("enabled members are candidates; draining, disabled and down ones are excluded with a reason", () => {
    const records = { "rr/a": rec({ admin: "drain" }), "rr/b": rec({ admin: "disabled" }), "rr/c": rec({ healthy: false, reason: "down after 2 failed active check(s): refused" }) };
    let c = chooseMember(config, farm("rr"), records, ctx());
    expect(ids(c)).toEqual([]);
    expect(c.excluded.map((e) => `${e.member.id}: ${e.reason}`)).toEqual(["a: draining", "b: disabled", "c: down: down after 2 failed active check(s): refused"]);
    expect(c.fallbackUrl).toBe("https://sorry.example");
    expect(c.sticky).toBe(false);
    c = chooseMember(config, farm("rr"), { "rr/b": rec({ admin: "disabled" }) }, ctx());
    expect(ids(c)).toEqual(["a", "c"]);
  });

  it("disabled wins over down, drain + down is down", () => {
    const c = chooseMember(config, farm("rr"), { "rr/a": rec({ admin: "disabled", healthy: false }), "rr/b": rec({ admin: "drain", healthy: false, reason: "x" }) }, ctx());
    expect(c.excluded.map((e) => e.member.state)).toEqual(["disabled", "down"]);
  });

  it("records of other farms with the same member id do not leak in", () => {
    expect(ids(chooseMember(config, farm("gold"), { "rr/g1": rec({ admin: "disabled" }) }, ctx()))).toEqual(["g1", "g2"]);
  });

  it("the passive view (this isolate's marks) excludes too", () => {
    const c = chooseMember(config, farm("rr"), {}, ctx({ passive: (m) => (m.id === "a" ? { healthy: false, reason: "passive: refused" } : { healthy: true }) }));
    expect(ids(c)).toEqual(["b", "c"]);
    expect(c.excluded.map((e) => e.reason)).toEqual(["passive: refused"]);
  });
});

describe("chooseMember: the farm's algorithm", () => {
  it("round-robin rotates with the sequence", () => {
    expect([0, 1, 2, 3].map((sequence) => ids(chooseMember(config, farm("rr"), {}, ctx({ sequence })))[0])).toEqual(["a", "b", "c", "a"]);
  });

  it("least-loaded ranks by the farm's load metric", () => {
    const stats = (load: number | null, conns: number | null) => rec({ stats: { load, conns, at: NOW - 1000 } });
    expect(ids(chooseMember(config, farm("ll"), { "ll/x": stats(0.9, 1), "ll/y": stats(0.1, 50), "ll/z": stats(0.5, 2) }, ctx()))).toEqual(["y", "z", "x"]);
    expect(ids(chooseMember(config, farm("ll"), { "ll/x": stats(0.2, 1), "ll/y": stats(0.1, 50), "ll/z": stats(0.05, 2) }, ctx()))[0]).toBe("z");
    expect(ids(chooseMember(config, farm("conns"), { "conns/p": stats(0.1, 40), "conns/q": stats(9, 3) }, ctx()))).toEqual(["q", "p"]);
    expect(ids(chooseMember(config, farm("conns"), { "conns/p": stats(9, 2), "conns/q": stats(0.1, 3) }, ctx()))).toEqual(["p", "q"]);
  });

  it("expired stats (and none at all) count as the busiest fresh member's, not as idle", () => {
    const ttl = farm("ll").statsTtlSeconds * 1000;
    const records = {
      "ll/x": rec({ stats: { load: 0, conns: 0, at: NOW - ttl - 1 } }), // expired: was idle
      "ll/y": rec({ stats: { load: 0.4, conns: 0, at: NOW - 1000 } }),
      "ll/z": rec({ stats: { load: 0.7, conns: 0, at: NOW - ttl } }), // exactly at the TTL: still fresh
    };
    const c = chooseMember(config, farm("ll"), records, ctx());
    expect(ids(c)[0]).toBe("y");
    // x counts as loaded as z (0.7): both after y.
    expect(ids(c).slice(1).sort()).toEqual(["x", "z"]);
    // Fresh again: the idle member leads.
    expect(ids(chooseMember(config, farm("ll"), records, ctx({ now: NOW - 5000 })))[0]).toBe("x");
    // A member that never reported is not idle either.
    expect(ids(chooseMember(config, farm("ll"), { "ll/y": records["ll/y"], "ll/z": rec({ stats: { load: 0.2, conns: 0, at: NOW } }) }, ctx()))[0]).toBe("z");
  });
});

describe("chooseMember: sticky and QoS claims", () => {
  it("a claim naming a usable member puts it first, whatever the rotation", () => {
    for (const sequence of [0, 1, 2]) {
      const c = chooseMember(config, farm("rr"), {}, ctx({ sequence, claim: claim("rr", "c") }));
      expect(ids(c)[0]).toBe("c");
      expect(ids(c).sort()).toEqual(["a", "b", "c"]);
      expect(c.sticky).toBe(true);
    }
  });

  it("a draining member serves only the clients stuck to it", () => {
    const records = { "rr/b": rec({ admin: "drain" }) };
    expect(ids(chooseMember(config, farm("rr"), records, ctx({ claim: claim("rr", "b") })))).toEqual(["b", "a", "c"]);
    expect(ids(chooseMember(config, farm("rr"), records, ctx({ claim: claim("rr", "a") })))).toEqual(["a", "c"]);
  });

  it("a claim on a disabled or down member, an unknown member or another farm balances normally", () => {
    for (const records of [{ "rr/b": rec({ admin: "disabled" }) }, { "rr/b": rec({ healthy: false }) }]) {
      const c = chooseMember(config, farm("rr"), records, ctx({ sequence: 1, claim: claim("rr", "b") }));
      expect(ids(c)).toEqual(["c", "a"]);
      expect(c.sticky).toBe(false);
    }
    expect(ids(chooseMember(config, farm("rr"), {}, ctx({ sequence: 1, claim: claim("rr", "nope") })))).toEqual(["b", "c", "a"]);
    // "ll" is not in rr's qos: the claim is ignored.
    expect(chooseMember(config, farm("rr"), {}, ctx({ sequence: 1, claim: claim("ll", "x") })).farm.name).toBe("rr");
  });

  it("a claim naming a farm in qos moves the request there (sticky within it if named)", () => {
    let c = chooseMember(config, farm("rr"), {}, ctx({ claim: claim("gold", "") }));
    expect(c.farm.name).toBe("gold");
    // The own farm's members follow as failover, and its fallback applies.
    expect(ids(c)).toEqual(["g1", "g2", "a", "b", "c"]);
    expect(c.ranked.map((m) => m.farm)).toEqual(["gold", "gold", "rr", "rr", "rr"]);
    expect(c.fallbackUrl).toBe("https://sorry.example");
    c = chooseMember(config, farm("rr"), {}, ctx({ claim: claim("gold", "g2") }));
    expect(ids(c)[0]).toBe("g2");
    expect(c.sticky).toBe(true);
  });

  it("a qos farm with nobody usable keeps the request in its own farm", () => {
    const c = chooseMember(config, farm("rr"), { "solo/s": rec({ admin: "disabled" }) }, ctx({ claim: claim("solo", "") }));
    expect(c.farm.name).toBe("rr");
    expect(ids(c)).toEqual(["a", "b", "c"]);
    expect(c.fallbackUrl).toBe("https://sorry.example");
  });
});
