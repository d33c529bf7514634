// The FarmRegistry Durable Object through its real binding (RPC), under farm names no
// configuration uses, so nothing here changes how the configured farms balance.
import { runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { FarmRegistry } from "../../../src/farms/registry";
import type { Probe } from "../../../src/farms/types";
import { registry, resetFarms } from "./support";

const F = "t_registry";
const up = (member: string, detail = "HTTP 200"): Probe => ({ member, ok: true, detail, source: "active" });
const fail = (member: string, detail = "HTTP 503"): Probe => ({ member, ok: false, detail, source: "active" });

beforeEach(resetFarms);
afterEach(resetFarms);

describe("FarmRegistry: operator state", () => {
  it("setAdmin stores the state and logs one event; an unchanged state logs nothing", async () => {
    const r = registry();
    const before = Date.now();
    const event = await r.setAdmin(F, "m1", "disabled", "admin test");
    expect(event).toMatchObject({ farm: F, member: "m1", kind: "admin", state: "disabled", reason: "enabled -> disabled by admin test" });
    expect(event!.at).toBeGreaterThanOrEqual(before);
    expect((await r.snapshot())[`${F}/m1`]).toMatchObject({ admin: "disabled", healthy: true, stats: null });
    expect((await r.events(1))[0]).toEqual(event);

    expect(await r.setAdmin(F, "m1", "disabled", "again")).toBeNull();
    expect((await r.events(1))[0]).toEqual(event);

    const drain = await r.setAdmin(F, "m1", "drain", "ops");
    expect(drain).toMatchObject({ state: "drain", reason: "disabled -> drain by ops" });
    expect((await r.snapshot())[`${F}/m1`]?.admin).toBe("drain");
  });

  it("a fresh member starts enabled and up, with nothing stored until something happens to it", async () => {
    expect(await registry().snapshot()).toEqual({});
    expect(await registry().setAdmin(F, "m1", "enabled", "noop")).toBeNull();
    expect(await registry().snapshot()).toEqual({});
  });
});

describe("FarmRegistry: pushed stats", () => {
  it("pushStats keeps the last report and leaves state and health alone", async () => {
    const r = registry();
    await r.setAdmin(F, "m1", "drain", "t");
    await r.pushStats(F, "m1", { load: 0.5, conns: 3, at: 1000 });
    await r.pushStats(F, "m1", { load: 1.25, conns: null, at: 2000 });
    const rec = (await r.snapshot())[`${F}/m1`];
    expect(rec?.stats).toEqual({ load: 1.25, conns: null, at: 2000 });
    expect(rec).toMatchObject({ admin: "drain", healthy: true });
  });
});

describe("FarmRegistry: health (rise/fall)", () => {
  it("fall consecutive failures flip a member down, rise successes flip it up, one event each", async () => {
    const r = registry();
    const t = { rise: 2, fall: 3 };
    expect(await r.observe(F, [fail("m1")], t)).toEqual([]);
    expect(await r.observe(F, [fail("m1")], t)).toEqual([]);
    let rec = (await r.snapshot())[`${F}/m1`];
    expect(rec).toMatchObject({ healthy: true, failures: 2, successes: 0, reason: "active: HTTP 503" });
    const down = await r.observe(F, [fail("m1", "HTTP 500")], t);
    expect(down).toHaveLength(1);
    expect(down[0]).toMatchObject({ farm: F, member: "m1", kind: "health", state: "down", reason: "down after 3 failed active check(s): HTTP 500" });
    rec = (await r.snapshot())[`${F}/m1`];
    expect(rec).toMatchObject({ healthy: false, failures: 3, reason: "down after 3 failed active check(s): HTTP 500" });
    expect(rec!.changedAt).toBe(down[0]!.at);
    // Still failing: no new event.
    expect(await r.observe(F, [fail("m1")], t)).toEqual([]);

    expect(await r.observe(F, [up("m1")], t)).toEqual([]);
    expect((await r.snapshot())[`${F}/m1`]).toMatchObject({ healthy: false, successes: 1, failures: 0 });
    const back = await r.observe(F, [up("m1")], t);
    expect(back).toEqual([expect.objectContaining({ state: "up", reason: "up after 2 good active check(s): HTTP 200" })]);
    expect((await r.snapshot())[`${F}/m1`]).toMatchObject({ healthy: true, successes: 2 });
    expect((await r.events(2)).map((e) => e.state)).toEqual(["up", "down"]);
  });

  it("a success in between resets the failure count (consecutive only)", async () => {
    const r = registry();
    const t = { rise: 1, fall: 2 };
    for (let i = 0; i < 3; i++) {
      expect(await r.observe(F, [fail("m1")], t)).toEqual([]);
      expect(await r.observe(F, [up("m1")], t)).toEqual([]);
    }
    expect((await r.snapshot())[`${F}/m1`]).toMatchObject({ healthy: true, failures: 0, successes: 1 });
  });

  it("one call observes several members and returns every transition", async () => {
    const r = registry();
    const events = await r.observe(F, [fail("a", "refused"), fail("b", "timeout"), up("c"), { ...fail("a", "again"), source: "passive" }], { rise: 1, fall: 1 });
    expect(events.map((e) => `${e.member} ${e.state}`)).toEqual(["a down", "b down"]);
    const snap = await r.snapshot();
    expect(snap[`${F}/a`]).toMatchObject({ healthy: false, failures: 2, reason: "down after 1 failed active check(s): refused" });
    expect(snap[`${F}/b`]?.healthy).toBe(false);
    expect(snap[`${F}/c`]).toMatchObject({ healthy: true, successes: 1 });
  });
});

describe("FarmRegistry: concurrent callers", () => {
  it("interleaved state changes, stats and checks of one member lose no update", async () => {
    const r = registry();
    const start = Date.now();
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < 20; i++) {
      calls.push(r.pushStats(F, "m1", { load: i, conns: i, at: i }));
      calls.push(r.setAdmin(F, "m1", i % 2 === 0 ? "drain" : "enabled", `call ${i}`));
      calls.push(r.observe(F, [fail("m1")], { rise: 1, fall: 100 }));
    }
    await Promise.all(calls);
    expect((await r.snapshot())[`${F}/m1`]).toMatchObject({ admin: "enabled", stats: { load: 19, conns: 19, at: 19 }, failures: 20, healthy: true });
    // Every call changed the state, so each logged one event.
    expect((await r.events(100)).filter((e) => e.farm === F && e.at >= start && / by call \d+$/.test(e.reason))).toHaveLength(20);
  });
});

describe("FarmRegistry: checks, forgetting, the event log", () => {
  it("claimCheck: due after the interval (less one second of Cron jitter), and only once", async () => {
    const r = registry();
    const farm = `t_claim_${crypto.randomUUID().slice(0, 8)}`;
    const t0 = 1_700_000_000_000;
    expect(await r.claimCheck(farm, 10_000, t0)).toBe(true);
    expect(await r.claimCheck(farm, 10_000, t0)).toBe(false);
    expect(await r.claimCheck(farm, 10_000, t0 + 8_999)).toBe(false);
    expect(await r.claimCheck(farm, 10_000, t0 + 9_000)).toBe(true);
    expect(await r.claimCheck(farm, 10_000, t0 + 9_500)).toBe(false);
    // Each farm has its own clock.
    expect(await r.claimCheck(`${farm}_b`, 10_000, t0 + 9_500)).toBe(true);
  });

  it("forgetAllBut drops exactly the members not listed and says how many", async () => {
    const r = registry();
    for (const m of ["a", "b", "c"]) await r.pushStats(F, m, { load: 1, conns: 1, at: 1 });
    await r.setAdmin("t_other", "a", "disabled", "t");
    expect(await r.forgetAllBut([`${F}/a`, "t_other/a", "t_none/x"])).toBe(2);
    expect(Object.keys(await r.snapshot()).sort()).toEqual(["t_other/a", `${F}/a`]);
    expect(await r.forgetAllBut([`${F}/a`, "t_other/a"])).toBe(0);
  });

  it("events come newest first and the log keeps the last 500", async () => {
    const r = registry();
    await r.setAdmin(F, "m1", "disabled", "first");
    await r.setAdmin(F, "m1", "drain", "second");
    await r.setAdmin(F, "m2", "disabled", "third");
    expect((await r.events(3)).map((e) => e.reason)).toEqual(["enabled -> disabled by third", "disabled -> drain by second", "enabled -> disabled by first"]);
    expect(await r.events(0)).toHaveLength(1);

    // 510 more transitions, inside the object (510 RPC round trips would only be slower).
    await runInDurableObject(r, async (instance: FarmRegistry) => {
      for (let i = 0; i < 510; i++) await instance.setAdmin(F, "m3", i % 2 === 0 ? "disabled" : "enabled", `flip ${i}`);
    });
    const kept = await runInDurableObject(r, async (_instance: FarmRegistry, state) => [...(await state.storage.list({ prefix: "e:" })).keys()]);
    expect(kept).toHaveLength(500);
    // Contiguous: the oldest were dropped, not arbitrary ones.
    const seqs = kept.map((k) => Number(k.slice(2)));
    expect(seqs[499]! - seqs[0]!).toBe(499);
    const events = await r.events(1000);
    expect(events).toHaveLength(500);
    expect(events[0]?.reason).toBe("disabled -> enabled by flip 509");
    expect(events[499]?.reason).toBe("enabled -> disabled by flip 10");
  });
});
