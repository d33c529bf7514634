import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { HealthRecord } from "../../../src/health/registry";
import { backoffMs, beginAttempt, passiveMarks, passiveState, recordFailure, recordSuccess, registryId, retryBlocker } from "../../../src/proxy/failover";
import { backend, backendUrl, echo, freshEnv, resetBackends, routeOf, send, sleep } from "./support";

/** The JSON log lines written while `run` runs, at any level (the console stays real; it is only watched). */
async function logged<T>(run: () => Promise<T>): Promise<{ result: T; lines: Record<string, unknown>[] }> {
  const spies = (["log", "warn", "error"] as const).map((level) => vi.spyOn(console, level));
  try {
    const result = await run();
    const calls = spies.flatMap((s) => s.mock.calls.map((args, i) => ({ line: args[0], order: s.mock.invocationCallOrder[i]! })));
    calls.sort((a, b) => a.order - b.order);
    const lines = calls.flatMap(({ line: l }) => (typeof l === "string" && l.startsWith("{") ? [JSON.parse(l) as Record<string, unknown>] : []));
    return { result, lines };
  } finally {
    for (const s of spies) s.mockRestore();
  }
}

/** What a 502/504 may tell a client (issue #11 L7): the route, what happened, a request id; no address, no runtime error. */
const OPAQUE = /^proxy route [^ ]+: (no backend answered|every backend is marked down)(; not retried: [^()]+)? \(request id ([A-Za-z0-9-]+)\)\n$/;

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
    expect(await res.text()).toMatch(/^proxy route \/fo\/: no backend answered; not retried: POST is not idempotent \(RFC 9110 §9\.2\.2\) \(request id [\w-]+\)\n$/);
    expect((await backend(1, "stats")).hits).toBe(0);
    // PUT is idempotent, but its streamed body cannot be replayed either; without a body it is retried.
    const put = await send(route, "/fo/doc", { env: freshEnv(), method: "PUT", body: "v2" });
    expect(put.status).toBe(502);
    expect(await put.text()).toMatch(/not retried: its streamed request body cannot be replayed/);
    const del = await send(route, "/fo/doc", { env: freshEnv(), method: "DELETE" });
    expect((await echo(del)).backend).toBe("b1");
  });

  it("every backend refused: 502 naming the route and a request id, not the backends; the details are logged under that id", async () => {
    const route = routeOf({ prefix: "/down/", backends: [backendUrl(0), backendUrl(1)] });
    const e = freshEnv();
    await backend(0, "down");
    await backend(1, "down");
    // With a CF-Ray (Cloudflare's request id) the id is the ray.
    const { result: res, lines } = await logged(() => send(route, "/down/x", { env: e, headers: { "cf-ray": "8f1b2c3d4e5f6a7b-FRA" } }));
    expect(res.status).toBe(502);
    const body = await res.text();
    expect(body).toBe("proxy route /down/: no backend answered (request id 8f1b2c3d4e5f6a7b-FRA)\n");
    expect(res.headers.get("x-request-id")).toBe("8f1b2c3d4e5f6a7b-FRA");
    const summary = lines.find((l) => l["msg"] === "proxy.route-failed");
    expect(summary).toMatchObject({ requestId: "8f1b2c3d4e5f6a7b-FRA", status: 502 });
    expect(JSON.stringify(summary)).toContain(`127.0.0.1:${new URL(backendUrl(0)).port}: cannot connect: `);
    expect(lines.filter((l) => l["msg"] === "proxy.backend-failed").map((l) => l["requestId"])).toEqual(["8f1b2c3d4e5f6a7b-FRA", "8f1b2c3d4e5f6a7b-FRA"]);

    // Without one (or with a forged one that is not a plain token) a random id, the same in body, header and log.
    const again = await logged(() => send(route, "/down/x", { env: e, headers: { "cf-ray": "<script>" } }));
    expect(again.result.status).toBe(502);
    const text = await again.result.text();
    const id = OPAQUE.exec(text)?.[3];
    expect(text).toMatch(/every backend is marked down/);
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(again.result.headers.get("x-request-id")).toBe(id);
    expect(again.lines.find((l) => l["msg"] === "proxy.route-failed")).toMatchObject({ requestId: id });
    expect(JSON.stringify(again.lines)).toMatch(/passive: cannot connect: .*retry in 1 s/);
    for (const t of [body, text]) {
      expect(t).not.toContain("127.0.0.1");
      expect(t).not.toMatch(/cannot connect|passive|Network|retry in/);
    }
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
    const text = await res.text();
    expect(text).toMatch(/^proxy route www\.example\.com\/slow\/: no backend answered \(request id [\w-]+\)\n$/);
    expect(text).not.toMatch(/127\.0\.0\.1|no answer within/);
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
