// Pushed stats drive farm_stats (least-loaded, statsTtlSeconds 2) through query mode,
// and stop counting once they are older than the TTL.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AUTH, balance, freshBase, registry, resetFarms, sleep, URLS } from "./support";

beforeEach(resetFarms);
afterEach(resetFarms);

async function push(member: "s1" | "s2" | "s3", load: string): Promise<void> {
  const res = await freshBase()(`/ath/update?farm=farm_stats&member=${member}&load=${load}`, { headers: AUTH });
  expect(res.status, res.text).toBe(200);
}

/** Query mode from a deployment that has not cached the registry yet. */
const chosen = async () => (await balance(freshBase(), "farm_stats")).trim();

describe("farm stats: least-loaded over pushed stats", () => {
  it("sends the client to the least loaded member, following new reports", async () => {
    await push("s1", "0.5");
    await push("s2", "0.7");
    await push("s3", "0.05");
    expect(await chosen()).toBe(URLS.s3);
    await push("s3", "0.9");
    expect(await chosen()).toBe(URLS.s1);
    await push("s2", "0.1");
    expect(await chosen()).toBe(URLS.s2);
  });

  it("a deployment that pushed sees its own report at once (no wait for its view's TTL)", async () => {
    const base = freshBase();
    await push("s1", "0.5");
    await push("s2", "0.5");
    await push("s3", "0.01");
    expect((await balance(base, "farm_stats")).trim()).toBe(URLS.s3);
    const res = await base("/ath/update?farm=farm_stats&member=s1&load=0.001", { headers: AUTH });
    expect(res.status).toBe(200);
    expect((await balance(base, "farm_stats")).trim()).toBe(URLS.s1);
  });

  it("after statsTtlSeconds an idle report expires and the member counts as the busiest, not as idle", async () => {
    const t0 = Date.now();
    await push("s1", "0.01");
    await push("s2", "0.4");
    await push("s3", "0.8");
    expect(await chosen()).toBe(URLS.s1);
    // s2 and s3 keep reporting; s1's agent goes quiet.
    await sleep(1000);
    await push("s2", "0.4");
    await push("s3", "0.8");
    await sleep(Math.max(0, t0 + 2300 - Date.now()));
    const snap = await registry().snapshot();
    expect(Date.now() - snap["farm_stats/s1"]!.stats!.at).toBeGreaterThan(2000);
    expect(Date.now() - snap["farm_stats/s2"]!.stats!.at).toBeLessThan(2000);
    // s1 now counts as loaded as s3 (0.8): s2 (0.4) is the least loaded.
    expect(await chosen()).toBe(URLS.s2);
    // A fresh report from s1 brings it back.
    await push("s1", "0.01");
    expect(await chosen()).toBe(URLS.s1);
  });
});
