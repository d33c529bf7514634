// Active farm health checks fired by the base's Cron handler, against echo backends that
// really stop listening. farm_one: GET /health, expect 200, interval 1 s, rise 2, fall 2.
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseFarmsConfig } from "../../../src/config/farms-config";
import { checkFarms, probeMember, runFarmChecks } from "../../../src/farms/health-checks";
import { cronHealthChecks } from "../support";
import { backend, backendUrl, echo } from "../proxy/support";
import { balanceMany, freshBase, registry, resetFarms, URLS } from "./support";

beforeEach(resetFarms);
afterEach(resetFarms);

const record = async (key: string) => (await registry().snapshot())[key];

describe("farm health: Cron checks", () => {
  it("a really stopped member goes down after fall (2) checks, leaves query mode and proxy routes, and comes back after rise (2)", async () => {
    const start = Date.now();
    await backend(1, "down");
    await cronHealthChecks();
    expect(await record("farm_one/web2")).toMatchObject({ healthy: true, failures: 1 });
    expect(await record("farm_one/web1")).toMatchObject({ healthy: true, successes: 1, failures: 0 });
    await cronHealthChecks();
    const down = await record("farm_one/web2");
    expect(down).toMatchObject({ healthy: false, failures: 2 });
    expect(down!.reason).toMatch(/^down after 2 failed active check\(s\): cannot connect: /);
    const event = (await registry().events(20)).find((e) => e.member === "web2" && e.kind === "health");
    expect(event).toMatchObject({ farm: "farm_one", state: "down" });
    expect(event!.at).toBeGreaterThanOrEqual(start);

    expect(await balanceMany(freshBase(), "farm_one", 4)).toEqual(Array(4).fill(URLS.web1));
    const routed = freshBase({ PROXY_ROUTES: JSON.stringify([{ prefix: "/reports/", backends: "http://farm_one/reports" }]) });
    for (let i = 0; i < 4; i++) {
      const res = await routed(`/reports/${i}`);
      expect((await echo(new Response(res.text, { status: res.status }))).backend).toBe("b0");
    }

    await backend(1, "up");
    await cronHealthChecks();
    expect(await record("farm_one/web2")).toMatchObject({ healthy: false, successes: 1 });
    expect(await balanceMany(freshBase(), "farm_one", 2)).toEqual([URLS.web1, URLS.web1]);
    await cronHealthChecks();
    expect(await record("farm_one/web2")).toMatchObject({ healthy: true, successes: 2, failures: 0 });
    const [up] = (await registry().events(20)).filter((e) => e.member === "web2" && e.kind === "health");
    expect(up).toMatchObject({ farm: "farm_one", state: "up" });
    expect(up!.reason).toMatch(/^up after 2 good active check\(s\): GET \/health: HTTP 200/);
    expect(await balanceMany(freshBase(), "farm_one", 2)).toEqual([URLS.web1, URLS.web2]);
  });

  it("an answer with another status than expected counts as a failure", async () => {
    await backend(0, "set", { status: 503 });
    await cronHealthChecks();
    await cronHealthChecks();
    const web1 = await record("farm_one/web1");
    expect(web1?.healthy).toBe(false);
    expect(web1!.reason).toMatch(/GET \/health: HTTP 503 in \d+ ms \(expected 200\)$/);
    expect(await balanceMany(freshBase(), "farm_one", 3)).toEqual(Array(3).fill(URLS.web2));
  });

  it("only farms with a health block are probed; members no longer configured are forgotten", async () => {
    await registry().pushStats("farm_retired", "old1", { load: 1, conns: 1, at: Date.now() });
    await cronHealthChecks();
    expect(Object.keys(await registry().snapshot()).sort()).toEqual(["farm_one/web1", "farm_one/web2"]);
  });

  it("a broken FARMS skips the round (logged), touching nothing", async () => {
    await registry().setAdmin("farm_one", "web2", "disabled", "test");
    const before = await registry().snapshot();
    expect(await runFarmChecks({ ...(env as object), FARMS: '{"farm_one": ' } as unknown as Env)).toEqual([]);
    expect(await registry().snapshot()).toEqual(before);
  });

  it("a farm is probed once per interval, whoever fires the Cron", async () => {
    const name = `f_${crypto.randomUUID().slice(0, 8)}`;
    const config = parseFarmsConfig({ FARMS: JSON.stringify({ [name]: { members: [{ id: "m", url: backendUrl(0) }], health: { intervalSeconds: 60, fall: 1 } } }) });
    const before = (await backend(0, "stats")).hits;
    expect(await checkFarms(config, env as unknown as Env)).toEqual([]);
    expect(await checkFarms(config, env as unknown as Env)).toEqual([]);
    expect((await backend(0, "stats")).hits - before).toBe(1);
    expect(await record(`${name}/m`)).toMatchObject({ healthy: true, successes: 1 });
  });
});

describe("farm health: one probe", () => {
  const member = { id: "web1", url: backendUrl(0), weight: 1 };
  const check = { method: "GET" as const, path: "/health", expect: [200, 204], intervalSeconds: 1, timeoutMs: 300, rise: 1, fall: 1 };

  it("up when the status is expected; HEAD is sent as HEAD", async () => {
    expect(await probeMember(member, check)).toMatchObject({ member: "web1", ok: true, source: "active" });
    expect((await probeMember(member, { ...check, method: "HEAD" })).detail).toMatch(/^HEAD \/health: HTTP 200 in \d+ ms$/);
  });

  it("down on a timeout or a refused connection, with the reason", async () => {
    await backend(0, "set", { delay: 1000 });
    expect(await probeMember(member, check)).toMatchObject({ ok: false, detail: "GET /health: no answer within 300 ms" });
    await backend(0, "down");
    const refused = await probeMember(member, check);
    expect(refused.ok).toBe(false);
    expect(refused.detail).toMatch(/^cannot connect: /);
  });
});
