// Issue #11 H1: a backend is only blamed for its own silence. A client that stalls,
// breaks off or cuts short its upload gets a 4xx and leaves the backend's health alone —
// locally (passive marks, the half-open trial) and in the registries. Real sockets: the
// echo backends read the whole request body before they answer.
import { env } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import worker from "../../../src/base-index";
import type { HealthRecord } from "../../../src/health/registry";
import { passiveMarks, passiveState, recordFailure, registryId } from "../../../src/proxy/failover";
import { balanceMany, freshBase, registry as farmRegistry, resetFarms, URLS } from "../farms/support";
import { backend, backendUrl, echo, freshEnv, pacedBody as paced, resetBackends, routeOf, send, sizedBody as short, stalledBody as stalled } from "./support";

async function healthRegistry(): Promise<Record<string, HealthRecord>> {
  const ns = (env as unknown as Env).HEALTH;
  return ns.get(ns.idFromName("registry")).snapshot();
}

const STALL = { method: "POST", headers: { "content-length": "1000", "content-type": "application/octet-stream" } };

describe("proxy: the client's upload faults are the client's (H1)", () => {
  beforeEach(resetBackends);
  afterEach(resetBackends);
  const route = routeOf({ prefix: "/up/", backends: [backendUrl(0)], timeoutMs: 300, clientBodyTimeoutMs: 700 });

  it("a stalled upload gets 408 after clientBodyTimeoutMs; the backend is not marked, and answers the next request", async () => {
    const e = freshEnv();
    const started = Date.now();
    const res = await send(route, "/up/form", { env: e, ...STALL, body: stalled(10) });
    expect(res.status).toBe(408);
    expect(await res.text()).toBe("proxy route /up/: the request body stalled (nothing received for 700 ms)\n");
    expect(Date.now() - started).toBeGreaterThanOrEqual(650);
    expect(passiveMarks(e).size).toBe(0);
    expect((await healthRegistry())[registryId(backendUrl(0))]).toBeUndefined();
    expect((await echo(await send(route, "/up/form", { env: e, method: "POST", body: "name=value" }))).body).toBe("name=value");
  });

  it("five stalled uploads in parallel take nobody out of service", async () => {
    const two = routeOf({ prefix: "/up/", backends: [backendUrl(0), backendUrl(1)], timeoutMs: 300, clientBodyTimeoutMs: 500 });
    const e = freshEnv();
    const answers = await Promise.all(Array.from({ length: 5 }, () => send(two, "/up/form", { env: e, ...STALL, body: stalled(10) })));
    expect(answers.map((r) => r.status)).toEqual([408, 408, 408, 408, 408]);
    expect(passiveMarks(e).size).toBe(0);
    for (let i = 0; i < 2; i++) expect((await send(two, "/up/x", { env: e })).status).toBe(200);
  });

  it("pauses between chunks longer than timeoutMs (but within clientBodyTimeoutMs) are not the backend's silence", async () => {
    const e = freshEnv();
    const parts = ["one;", "two;", "three"];
    const seen = await echo(await send(route, "/up/slow", { env: e, method: "POST", body: paced(parts, 450) }));
    expect(seen.body).toBe(parts.join(""));
    expect(passiveMarks(e).size).toBe(0);
  });

  it("a body shorter than its Content-Length gets 400 and marks nothing", async () => {
    const e = freshEnv();
    const res = await send(route, "/up/short", { env: e, ...STALL, body: short(10) });
    expect(res.status).toBe(400);
    expect(await res.text()).toBe("proxy route /up/: the request body ended after 10 of 1000 bytes (Content-Length)\n");
    expect(passiveMarks(e).size).toBe(0);
  });

  it("the backend's own silence after the whole body arrived is still a backend timeout (504, marked)", async () => {
    const e = freshEnv();
    await backend(0, "set", { delay: 2000 });
    const res = await send(route, "/up/form", { env: e, method: "POST", body: "name=value" });
    expect(res.status).toBe(504);
    expect(passiveMarks(e).get(backendUrl(0))).toMatchObject({ kind: "timeout", failures: 1 });
  });

  it("a stalled upload that took a half-open trial hands it back unchanged (no doubled back-off)", async () => {
    const e = freshEnv();
    recordFailure(e, backendUrl(0), "refused", "cannot connect", Date.now() - 5000); // back-off (1 s) over: half-open
    const res = await send(route, "/up/form", { env: e, ...STALL, body: stalled(10) });
    expect(res.status).toBe(408);
    expect(passiveMarks(e).get(backendUrl(0))).toMatchObject({ failures: 1, trialAt: 0 });
    expect(passiveState(e, backendUrl(0), Date.now())).toEqual({ healthy: true });
    expect((await send(route, "/up/x", { env: e })).status).toBe(200); // the trial: recovered
    expect(passiveMarks(e).size).toBe(0);
  });
});

describe("PROXY_ROUTES[].clientBodyTimeoutMs", () => {
  it("defaults to 60 s (nginx client_body_timeout) and is checked, naming the field", () => {
    expect(routeOf({ prefix: "/a/", backends: [backendUrl(0)] }).clientBodyTimeoutMs).toBe(60_000);
    expect(routeOf({ prefix: "/a/", backends: [backendUrl(0)], clientBodyTimeoutMs: 5000 }).clientBodyTimeoutMs).toBe(5000);
    for (const bad of [50, 600_001, 1.5, "60s"]) {
      expect(() => routeOf({ prefix: "/a/", backends: [backendUrl(0)], clientBodyTimeoutMs: bad }), String(bad)).toThrow(/^invalid config PROXY_ROUTES\[0\]\.clientBodyTimeoutMs: /);
    }
  });
});

describe("farm proxy route: stalled uploads are not reported to the FarmRegistry (H1)", () => {
  beforeEach(resetFarms);
  afterEach(resetFarms);

  it("more stalled uploads than the farm's fall: 408 each, the members stay up, /ath/balance/ still answers them", async () => {
    const vars = { PROXY_ROUTES: JSON.stringify([{ prefix: "/reports/", backends: "http://farm_one/reports", timeoutMs: 300, clientBodyTimeoutMs: 500 }]) };
    const variant = { ...(env as object), ...vars } as unknown as Env;
    for (let i = 0; i < 4; i++) {
      const headers = new Headers({ ...STALL.headers, "cf-connecting-ip": "198.51.100.7" });
      const req = new Request("http://base.test/reports/upload", { method: "POST", headers, body: stalled(10) });
      const ctx = createExecutionContext();
      const res = await worker.fetch(req as Request<unknown, IncomingRequestCfProperties>, variant, ctx);
      expect(res.status, `request ${i}`).toBe(408);
      await res.text();
      await waitOnExecutionContext(ctx);
    }
    const records = await farmRegistry().snapshot();
    for (const m of ["farm_one/web1", "farm_one/web2"]) expect(records[m]?.healthy ?? true, m).toBe(true);
    expect(Object.values(records).filter((r) => r.failures > 0)).toEqual([]);
    const answers = await balanceMany(freshBase(), "farm_one", 4);
    expect(new Set(answers)).toEqual(new Set([URLS.web1, URLS.web2]));
  });
});
