// A PROXY_ROUTES backend naming a farm ("http://farm_one/reports"): the farm's members
// serve the route, the farm's states and fallback apply, failures reach the registry.
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseFarmsConfig } from "../../../src/config/farms-config";
import { chooseMember } from "../../../src/farms/choose";
import type { Ranking } from "../../../src/proxy/proxy";
import { backend, backendUrl, echo, freshEnv, routeOf, send, type Echo } from "../proxy/support";
import { balanceMany, FALLBACK, freshBase, registry, resetFarms, URLS, type Answer } from "./support";

beforeEach(resetFarms);
afterEach(resetFarms);

const routes = (...specs: Record<string, unknown>[]) => ({ PROXY_ROUTES: JSON.stringify(specs) });
const REPORTS = routes({ prefix: "/reports/", backends: "http://farm_one/reports" });
const seen = (res: Answer): Promise<Echo> => echo(new Response(res.text, { status: res.status }));

describe("farm proxy route: members serve it", () => {
  it("requests reach both members with the farm URL's path in front and the query kept", async () => {
    const base = freshBase(REPORTS);
    const answers: Echo[] = [];
    for (let i = 0; i < 4; i++) answers.push(await seen(await base(`/reports/q${i}.csv?month=2026-0${i + 1}`)));
    expect(answers.map((a) => a.backend)).toEqual(["b0", "b1", "b0", "b1"]);
    expect(answers.map((a) => a.url)).toEqual(["/reports/reports/q0.csv?month=2026-01", "/reports/reports/q1.csv?month=2026-02", "/reports/reports/q2.csv?month=2026-03", "/reports/reports/q3.csv?month=2026-04"]);
    // The same as a plain backend URL with that path would give.
    const plain = freshBase(routes({ prefix: "/reports/", backends: `${URLS.web1}/reports` }));
    expect((await seen(await plain("/reports/q0.csv?month=2026-01"))).url).toBe("/reports/reports/q0.csv?month=2026-01");
  });

  it("the farm's states apply: a disabled member gets nothing", async () => {
    await registry().setAdmin("farm_one", "web1", "disabled", "test");
    const base = freshBase(REPORTS);
    for (let i = 0; i < 3; i++) expect((await seen(await base(`/reports/${i}`))).backend).toBe("b1");
  });

  it("a least-loaded farm route follows pushed stats", async () => {
    await registry().pushStats("farm_stats", "s1", { load: 0.9, conns: 0, at: Date.now() });
    await registry().pushStats("farm_stats", "s2", { load: 0.8, conns: 0, at: Date.now() });
    await registry().pushStats("farm_stats", "s3", { load: 0.1, conns: 0, at: Date.now() });
    const base = freshBase(routes({ prefix: "/s/", backends: "http://farm_stats" }));
    for (const p of ["/s/a", "/s/b", "/s/c"]) {
      const e = await seen(await base(p));
      expect([e.backend, e.path]).toEqual(["b2", p]);
    }
  });
});

describe("farm proxy route: nobody usable", () => {
  it("farm all disabled or down: 307 to the farm's fallbackUrl with the path and query", async () => {
    await registry().setAdmin("farm_one", "web1", "disabled", "test");
    await registry().observe("farm_one", [{ member: "web2", ok: false, detail: "refused", source: "active" }], { rise: 2, fall: 1 });
    const res = await freshBase(REPORTS)("/reports/q1.csv?month=5");
    expect(res.status).toBe(307);
    expect(res.headers.get("location")).toBe(`${FALLBACK}/reports/q1.csv?month=5`);
    expect(res.headers.get("cache-control")).toBe("private, no-store");
  });

  it("a farm without fallbackUrl uses the route's; without either: 502 with a request id (members only in the log)", async () => {
    for (const m of ["s1", "s2", "s3"]) await registry().setAdmin("farm_stats", m, "disabled", "test");
    const withRoute = await freshBase(routes({ prefix: "/s/", backends: "http://farm_stats/x", fallbackUrl: "https://route-fallback.example/pub" }))("/s/f");
    expect(withRoute.status).toBe(307);
    expect(withRoute.headers.get("location")).toBe("https://route-fallback.example/pub/s/f");
    const none = await freshBase(routes({ prefix: "/s/", backends: "http://farm_stats/x" }))("/s/f");
    expect(none.status).toBe(502);
    expect(none.text).toMatch(/^proxy route \/s\/: every backend is marked down \(request id [\w-]+\)\n$/);
  });

  it("the farm's fallbackUrl comes before the route's", async () => {
    await registry().setAdmin("farm_one", "web1", "disabled", "test");
    await registry().setAdmin("farm_one", "web2", "disabled", "test");
    const res = await freshBase(routes({ prefix: "/reports/", backends: "http://farm_one/reports", fallbackUrl: "https://route-fallback.example" }))("/reports/x");
    expect(res.headers.get("location")).toBe(`${FALLBACK}/reports/x`);
  });
});

describe("farm proxy route: failures", () => {
  it("a stopped member: the request fails over, and the failure reaches the registry as a passive check (fall 2)", async () => {
    await backend(1, "down");
    // A new deployment's round-robin starts at web1: its second request tries web2 first.
    for (const round of [1, 2]) {
      const base = freshBase(REPORTS);
      for (let i = 0; i < 2; i++) {
        const res = await base(`/reports/${round}-${i}`);
        expect((await seen(res)).backend).toBe("b0");
      }
      const rec = (await registry().snapshot())["farm_one/web2"];
      expect(rec, `round ${round}`).toMatchObject({ failures: round, healthy: round < 2 });
      expect(rec!.reason).toMatch(round < 2 ? /^passive: cannot connect: / : /^down after 2 failed passive check\(s\): cannot connect: /);
    }
    expect((await registry().events(5)).find((e) => e.member === "web2")).toMatchObject({ kind: "health", state: "down" });
    // Down for everyone now, query mode included.
    expect(await balanceMany(freshBase(), "farm_one", 2)).toEqual([URLS.web1, URLS.web1]);
  });

  it("a farm without health checks keeps passive failures to the isolate (nothing would bring the member back)", async () => {
    const route = routes({ prefix: "/s/", backends: "http://farm_stats" });
    // A path whose least-loaded tie-break puts s2 (b1) first.
    const farms = parseFarmsConfig(env as unknown as Record<string, unknown>);
    const path = ["/s/a", "/s/b", "/s/c", "/s/d", "/s/e", "/s/f", "/s/g", "/s/h", "/s/i", "/s/j"].find(
      (p) => chooseMember(farms, farms.farms.get("farm_stats")!, {}, { path: p, random: Math.random, sequence: 0, now: Date.now() }).ranked[0]?.id === "s2",
    )!;
    expect(path).toBeDefined();
    await backend(1, "down");
    for (let i = 0; i < 3; i++) {
      const res = await freshBase(route)(path);
      expect((await seen(res)).backend).not.toBe("b1");
    }
    expect(await registry().snapshot()).toEqual({});
  });
});

describe("proxyRequest: a ranking given by the caller", () => {
  const route = routeOf({ prefix: "/x/", backends: [backendUrl(0)], retries: 1 });

  it("is used instead of the route's own backends, in its order, with its report hook", async () => {
    const reports: string[] = [];
    const ranking: Ranking = {
      ranked: [
        { id: "dead", url: backendUrl(1), weight: 1 },
        { id: "gold", url: backendUrl(2), weight: 1 },
      ],
      excluded: [],
      fallbackUrl: null,
      report: (b, ok, detail) => reports.push(`${b.id} ${ok} ${detail.split(":")[0]}`),
    };
    await backend(1, "down");
    const res = await send(route, "/x/y", { env: freshEnv(), options: { ranking } });
    expect((await echo(res)).backend).toBe("b2");
    expect(reports).toEqual(["dead false cannot connect"]);
  });

  it("its fallbackUrl, and a generic 502 (exclusions only in the log) when it has no fallback", async () => {
    const empty: Ranking = { ranked: [], excluded: [{ id: "web1", url: backendUrl(0), reason: "disabled" }], fallbackUrl: "https://fb.example/base" };
    let res = await send(route, "/x/y?q=1", { env: freshEnv(), options: { ranking: empty } });
    expect(res.status).toBe(307);
    expect(res.headers.get("location")).toBe("https://fb.example/base/x/y?q=1");
    res = await send(route, "/x/y", { env: freshEnv(), options: { ranking: { ...empty, fallbackUrl: null } } });
    expect(res.status).toBe(502);
    expect(await res.text()).toMatch(/^proxy route \/x\/: every backend is marked down \(request id [\w-]+\)\n$/);
  });
});
