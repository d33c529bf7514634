import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { HealthRecord } from "../../../src/health/registry";
import { backoffMs, beginAttempt, passiveMarks, passiveState, recordFailure, recordSuccess, registryId, retryBlocker } from "../../../src/proxy/failover";
import { backend, backendUrl, echo, freshEnv, resetBackends, routeOf, send, sleep } from "./support";

async function registry(): Promise<Record<string, HealthRecord>> {
  const ns = (env as unknown as Env).HEALTH;
  return ns.get(ns.idFromName("registry")).snapshot();
}

describe("passive marks (pure)", () => {
  it("back-off doubles from 1 s up to 60 s", () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 40].map(backoffMs)).toEqual([1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000]);
  });

  it("down while backing off, then half-open: exactly one trial; success clears, failure doubles", () => {
    const env = {};
    const url = "http://b:1";
    recordFailure(env, url, "refused", "cannot connect", 10_000);
    expect(passiveState(env, url, 10_999)).toMatchObject({ healthy: false, reason: expect.stringMatching(/^passive: cannot connect; 1 failure\(s\), retry in 1 s$/) });
    expect(beginAttempt(env, url, 10_999)).toBe(false);
    expect(beginAttempt(env, url, 11_000)).toBe(true); // the trial
    expect(beginAttempt(env, url, 11_001)).toBe(false); // only one
    expect(passiveState(env, url, 11_001).reason).toMatch(/half-open/);
    expect(recordFailure(env, url, "timeout", "no answer", 11_500)).toMatchObject({ failures: 2, downUntil: 13_500 });
    expect(beginAttempt(env, url, 13_500)).toBe(true);
    expect(recordSuccess(env, url)).toBe(true);
    expect(passiveState(env, url, 13_501)).toEqual({ healthy: true });
    expect(recordSuccess(env, url)).toBe(false);
  });

  it("retries only idempotent requests without a body (RFC 9110 §9.2.2)", () => {
    for (const m of ["GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"]) expect(retryBlocker(m, false), m).toBeNull();
    expect(retryBlocker("PUT", true)).toBe("its streamed request body cannot be replayed");
    expect(retryBlocker("POST", false)).toBe("POST is not idempotent (RFC 9110 §9.2.2)");
    expect(retryBlocker("PATCH", true)).toMatch(/not idempotent/);
  });
});

describe("proxy: failover with really stopped backends", () => {
  beforeEach(resetBackends);
  afterEach(resetBackends);

  it("a stopped backend: the request still succeeds, the dead one is marked and skipped, and recovers after restart", async () => {
    const route = routeOf({ prefix: "/fo/", balancer: "round-robin", backends: [backendUrl(0), backendUrl(1)] });
    const e = freshEnv();
    await backend(0, "down");
    const first = await send(route, "/fo/x", { env: e }); // rotation starts at b0: refused, then b1
    expect((await echo(first)).backend).toBe("b1");
    const mark = passiveMarks(e).get(backendUrl(0));
    expect(mark).toMatchObject({ failures: 1, kind: "refused" });
    const reported = (await registry())[registryId(backendUrl(0))];
    expect(reported?.reason).toMatch(/^passive: cannot connect: /);
    expect(reported?.failures).toBeGreaterThanOrEqual(1);

    // Within the back-off nobody tries b0 again: every request goes to b1 at once, no new failure.
    const hitsBefore = (await backend(1, "stats")).hits;
    for (let i = 0; i < 4; i++) expect((await echo(await send(route, "/fo/x", { env: e }))).backend).toBe("b1");
    expect((await backend(1, "stats")).hits).toBe(hitsBefore + 4);
    expect(passiveMarks(e).get(backendUrl(0))?.failures).toBe(1);

    await backend(0, "up");
    await sleep(1100); // the 1 s back-off ends: b0 is half-open
    const after: string[] = [];
    for (let i = 0; i < 4; i++) after.push((await echo(await send(route, "/fo/x", { env: e }))).backend);
    expect(after.filter((b) => b === "b0")).toHaveLength(2); // back in the rotation
    expect(passiveMarks(e).has(backendUrl(0))).toBe(false);
    expect((await registry())[registryId(backendUrl(0))]).toMatchObject({ healthy: true, failures: 0 });
  });

  it("does not retry a POST with a body: the client gets 502 saying why, the other backend never sees it", async () => {
    const route = routeOf({ prefix: "/fo/", balancer: "round-robin", backends: [backendUrl(0), backendUrl(1)] });
    await backend(0, "down");
    const res = await send(route, "/fo/form", { env: freshEnv(), method: "POST", body: "name=value" });
    expect(res.status).toBe(502);
    expect(await res.text()).toMatch(/^proxy route \/fo\/: no backend answered \(127\.0\.0\.1:\d+: cannot connect: .*\); not retried: POST is not idempotent \(RFC 9110 §9\.2\.2\)\n$/);
    expect((await backend(1, "stats")).hits).toBe(0);
    // PUT is idempotent, but its streamed body cannot be replayed either; without a body it is retried.
    const put = await send(route, "/fo/doc", { env: freshEnv(), method: "PUT", body: "v2" });
    expect(put.status).toBe(502);
    expect(await put.text()).toMatch(/not retried: its streamed request body cannot be replayed/);
    const del = await send(route, "/fo/doc", { env: freshEnv(), method: "DELETE" });
    expect((await echo(del)).backend).toBe("b1");
  });

  it("every backend refused: 502 naming the route and each backend; then 'marked down' without trying", async () => {
    const route = routeOf({ prefix: "/down/", backends: [backendUrl(0), backendUrl(1)] });
    const e = freshEnv();
    await backend(0, "down");
    await backend(1, "down");
    let res = await send(route, "/down/x", { env: e });
    expect(res.status).toBe(502);
    expect(await res.text()).toMatch(/^proxy route \/down\/: no backend answered \(127\.0\.0\.1:\d+: cannot connect: [^;]+; 127\.0\.0\.1:\d+: cannot connect: [^;]+\)\n$/);
    res = await send(route, "/down/x", { env: e });
    expect(res.status).toBe(502);
    expect(await res.text()).toMatch(/^proxy route \/down\/: every backend is marked down \(127\.0\.0\.1:\d+: passive: cannot connect: .*retry in 1 s; .*\)\n$/);
  });

  it("every backend timed out: 504", async () => {
    const route = routeOf({ prefix: "/slow/", host: "www.example.com", timeoutMs: 300, backends: [backendUrl(0), backendUrl(1)] });
    const e = freshEnv();
    await backend(0, "set", { delay: 3000 });
    await backend(1, "set", { delay: 3000 });
    const started = Date.now();
    const res = await send(route, "/slow/x", { env: e });
    expect(res.status).toBe(504);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await res.text()).toMatch(/^proxy route www\.example\.com\/slow\/: no backend answered \(127\.0\.0\.1:\d+: no answer within 300 ms; 127\.0\.0\.1:\d+: no answer within 300 ms\)\n$/);
    expect(passiveMarks(e).get(backendUrl(1))?.kind).toBe("timeout");
    expect((await send(route, "/slow/x", { env: e })).status).toBe(504); // marked down, by timeouts
  });

  it("with fallbackUrl: 307 there (same path and query) instead of 502", async () => {
    const route = routeOf({ prefix: "/fb/", backends: [backendUrl(0)], fallbackUrl: "https://static.example.net/mirror" });
    await backend(0, "down");
    const res = await send(route, "/fb/a/b?c=1", { env: freshEnv() });
    expect(res.status).toBe(307);
    expect(res.headers.get("location")).toBe("https://static.example.net/mirror/fb/a/b?c=1");
    expect(res.headers.get("cache-control")).toBe("private, no-store");
  });

  it("a backend answering 5xx is up: its answer is passed on, not retried, not marked", async () => {
    const route = routeOf({ prefix: "/5xx/", backends: [backendUrl(0), backendUrl(1)] });
    const e = freshEnv();
    await backend(0, "set", { status: 503 });
    const res = await send(route, "/5xx/x", { env: e });
    expect(res.status).toBe(503);
    expect(res.headers.get("x-backend")).toBe("b0");
    expect(passiveMarks(e).size).toBe(0);
  });
});
