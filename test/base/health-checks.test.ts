// The active check of nodes and mirrors (the one prober of health/probe.ts) against real
// probe targets, and the HealthRegistry's rise/fall through its real binding, under an
// object name the Cron does not use.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import type { TargetSpec } from "../../src/config/targets";
import { probeAll } from "../../src/health/active-check";
import { probe } from "../../src/health/probe";
import type { Observation } from "../../src/health/registry";
import { behave, putBody, putFile, uniquePath } from "../support/origin";
import { mirrorUrl, nodeUrl, originUrl, target } from "./support";

const node = (i: 0 | 1): TargetSpec => ({ id: `n${i}`, url: nodeUrl(i), kind: "node", weight: 1, prefixes: [], healthPath: "/.well-known/offload/health" });
const mirror: TargetSpec = { id: "m", url: mirrorUrl, kind: "mirror", weight: 1, prefixes: [], healthPath: "/" };

afterEach(async () => {
  for (const i of [0, 1, 2] as const) {
    await target(i, "up");
    await target(i, "set", { status: 200, load: 0 });
  }
});

describe("active checks of nodes and mirrors", () => {
  it("a node is up on 200 and reports its load; a 5xx is down; a mirror is alive below 500", async () => {
    await target(0, "set", { load: 2.5 });
    await target(1, "set", { status: 503 });
    await target(2, "set", { status: 404 });
    const [n0, n1, m] = await probeAll([node(0), node(1), mirror], 2000);
    expect(n0).toMatchObject({ id: "n0", ok: true, load: 2.5, source: "active" });
    expect(n0!.detail).toMatch(/^HTTP 200 in \d+ ms$/);
    expect(n1).toMatchObject({ id: "n1", ok: false });
    expect(n1!.detail).toMatch(/^HTTP 503 in \d+ ms$/);
    expect(n1).not.toHaveProperty("load");
    expect(m).toMatchObject({ id: "m", ok: true });
    await target(2, "set", { status: 500 });
    expect((await probeAll([mirror], 2000))[0]).toMatchObject({ ok: false });
  });

  it("a stopped node is down with the reason", async () => {
    await target(0, "down");
    const [n0] = await probeAll([node(0)], 2000);
    expect(n0).toMatchObject({ ok: false });
    expect(n0!.detail).toMatch(/^cannot connect: /);
  });

  it("an answer later than the timeout is no answer", async () => {
    const path = uniquePath("health");
    await putFile(path, 10);
    await behave(path, { delayMs: 2000 });
    const r = await probe({ url: originUrl + path, method: "GET", up: (s) => s === 200, timeoutMs: 200, userAgent: "t" });
    expect(r).toEqual({ answered: false, ok: false, kind: "timeout", detail: "no answer within 200 ms" });
  });

  it("an up answer whose body reports nothing usable is still up", async () => {
    const path = uniquePath("health.txt");
    await putBody(path, "not JSON");
    const r = await probe({ url: originUrl + path, method: "GET", up: (s) => s === 200, timeoutMs: 2000, userAgent: "t", read: (res) => res.json() as Promise<number> });
    expect(r).toMatchObject({ answered: true, ok: true, status: 200 });
    expect(r.answered && r.report).toBeUndefined();
  });
});

describe("HealthRegistry: rise/fall", () => {
  const registry = () => env.HEALTH.get(env.HEALTH.idFromName(`t_health_${crypto.randomUUID()}`));
  const obs = (ok: boolean, detail: string, extra: Partial<Observation> = {}): Observation => ({ id: "t1", ok, detail, source: "active", ...extra });

  it("fall failures mark a target down, rise successes bring it back; each transition logged in the history", async () => {
    const r = registry();
    const t = { rise: 2, fall: 2 };
    const start = Date.now();
    expect(await r.observe([obs(false, "HTTP 503")], t)).toEqual([]);
    expect((await r.snapshot()).t1).toMatchObject({ healthy: true, failures: 1, reason: "active: HTTP 503" });
    const [down] = await r.observe([obs(false, "HTTP 500")], t);
    expect(down).toMatchObject({ id: "t1", healthy: false, reason: "down: 2 failed checks (HTTP 500)" });
    expect(down!.at).toBeGreaterThanOrEqual(start);
    expect((await r.snapshot()).t1).toMatchObject({ healthy: false, failures: 2, changedAt: down!.at });

    expect(await r.observe([obs(true, "HTTP 200", { load: 4 })], t)).toEqual([]);
    const [up] = await r.observe([obs(true, "HTTP 200")], t);
    expect(up).toMatchObject({ id: "t1", healthy: true, reason: "up: 2 good active checks" });
    expect((await r.snapshot()).t1).toMatchObject({ healthy: true, successes: 2, failures: 0, load: 4 });
    expect((await r.history()).map((h) => h.healthy)).toEqual([false, true]);
  });
});
