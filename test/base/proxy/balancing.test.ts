import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { inFlight } from "../../../src/proxy/pool";
import { proxyRequest } from "../../../src/proxy/proxy";
import { backendUrl, clientRequest, echo, freshEnv, PUBLIC, resetBackends, routeOf, send } from "./support";

const three = [backendUrl(0), backendUrl(1), backendUrl(2)];

async function who(route: ReturnType<typeof routeOf>, path: string, env: object, headers: Record<string, string> = {}): Promise<string> {
  return (await echo(await send(route, path, { env, headers }))).backend;
}

describe("proxy: balancing across real backends", () => {
  beforeEach(resetBackends);

  it("round-robin: exact rotation, every backend the same share", async () => {
    const route = routeOf({ prefix: "/rr/", balancer: "round-robin", backends: three });
    const env = freshEnv();
    const order: string[] = [];
    for (let i = 0; i < 9; i++) order.push(await who(route, `/rr/${i % 2 ? "a" : "b"}`, env));
    expect(order).toEqual(["b0", "b1", "b2", "b0", "b1", "b2", "b0", "b1", "b2"]);
  });

  it("hash: a path sticks to one backend, paths spread over all of them", async () => {
    const route = routeOf({ prefix: "/hash/", balancer: "hash", backends: three });
    const env = freshEnv();
    const home = new Map<string, string>();
    for (let i = 0; i < 24; i++) home.set(`/hash/file-${i}`, await who(route, `/hash/file-${i}`, env));
    for (const [path, backend] of home) {
      expect(await who(route, `${path}?v=${Math.random()}`, env), path).toBe(backend);
      expect(await who(route, path, freshEnv()), `${path} from another isolate`).toBe(backend);
    }
    expect(new Set(home.values())).toEqual(new Set(["b0", "b1", "b2"]));
  });

  it("weighted: shares follow the weights (4:1)", async () => {
    const route = routeOf({ prefix: "/w/", balancer: "weighted", backends: [{ id: "heavy", url: backendUrl(0), weight: 4 }, { id: "light", url: backendUrl(1), weight: 1 }] });
    const env = freshEnv();
    const counts = { b0: 0, b1: 0 } as Record<string, number>;
    for (let i = 0; i < 100; i++) counts[await who(route, "/w/x", env)]! += 1;
    expect(counts["b0"]).toBeGreaterThan(counts["b1"]! * 1.8); // expected 80:20; fails with p < 1e-4
    expect(counts["b1"]).toBeGreaterThan(0);
  });

  it("fair: while one backend has a slow request in flight, requests go to the idle one", async () => {
    const route = routeOf({ prefix: "/fair/", balancer: "fair", backends: [backendUrl(0), backendUrl(1)] });
    const env = freshEnv();
    const home = await who(route, "/fair/x", env); // idle pool: ties broken by the path's HRW order
    expect(await who(route, "/fair/x", env)).toBe(home);
    const slow = send(route, "/fair/x", { env, headers: { "x-echo-delay": "1500" } });
    expect(inFlight(env).get(home === "b0" ? backendUrl(0) : backendUrl(1))).toBe(1);
    const during: string[] = [];
    for (let i = 0; i < 5; i++) during.push(await who(route, "/fair/x", env));
    const other = home === "b0" ? "b1" : "b0";
    expect(during).toEqual([other, other, other, other, other]);
    expect((await echo(await slow)).backend).toBe(home);
    expect(inFlight(env).size).toBe(0); // released when the body ended
    expect(await who(route, "/fair/x", env)).toBe(home);
  });

  it("fair: counts a request in flight until its body has been sent, not only until headers", async () => {
    const route = routeOf({ prefix: "/fair/", balancer: "fair", backends: [backendUrl(0), backendUrl(1)] });
    const env = freshEnv();
    const ctx = createExecutionContext();
    const res = await proxyRequest(route, clientRequest("/fair/y"), ctx, env, PUBLIC);
    expect([...inFlight(env).values()]).toEqual([1]); // headers are here, the body is not read yet
    await res.arrayBuffer();
    await waitOnExecutionContext(ctx);
    expect(inFlight(env).size).toBe(0);
  });
});
