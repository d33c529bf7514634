import { beforeEach, describe, expect, it } from "vitest";
import { rewriteRequest, rewriteResponse } from "../../../src/proxy/rewrite";
import { backendPorts, backendUrl, echo, resetBackends, routeOf, send } from "./support";

describe("proxy: request rewrites seen by a real backend", () => {
  beforeEach(resetBackends);

  it("rewrites the URI with captures, query kept, and a header; the first matching rule wins", async () => {
    const route = routeOf({
      prefix: "/app/",
      backends: [backendUrl(0)],
      rewriteRequest: [
        { header: "uri", match: "^/app/v1/(\\w+)/(\\d+)", replace: "/api/$2/$1" },
        { header: "uri", match: "^/app/(.*)$", replace: "/$1" },
        { header: "uri", match: "^/app/v1/", replace: "/never/" },
        { header: "X-Tenant", match: "^(?<name>\\w+)$", replace: "tenant-$<name>" },
      ],
    });
    let seen = await echo(await send(route, "/app/v1/users/42/profile?x=1&y=%20", { headers: { "x-tenant": "acme" } }));
    expect(seen.path).toBe("/api/42/users/profile");
    expect(seen.query).toBe("?x=1&y=%20");
    expect(seen.headers["x-tenant"]).toBe("tenant-acme");
    seen = await echo(await send(route, "/app/static/a.css"));
    expect(seen.url).toBe("/static/a.css");
    expect(seen.headers["x-tenant"]).toBeUndefined(); // absent headers are not created
  });

  it("appends the rewritten URI to a backend URL with a path", async () => {
    const route = routeOf({ prefix: "/app/", backends: [`${backendUrl(0)}/mount/`], rewriteRequest: [{ header: "uri", match: "^/app", replace: "" }] });
    expect((await echo(await send(route, "/app/x?q"))).url).toBe("/mount/x?q");
  });

  it("Host rule: computes the Host asked of the subrequest; workerd still sends the URL's host", async () => {
    const rules = routeOf({ prefix: "/", backends: ["http://a:1"], rewriteRequest: [{ header: "host", match: "^www\\.(example\\.com)$", replace: "app.$1" }] }).rewriteRequest;
    expect(rewriteRequest(rules, "/x", "www.example.com", new Headers()).host).toBe("app.example.com");
    expect(rewriteRequest(rules, "/x", "other.example", new Headers()).host).toBeNull();
    const route = routeOf({ prefix: "/h/", backends: [backendUrl(0)], rewriteRequest: [{ header: "host", match: "^www\\.(example\\.com)$", replace: "app.$1" }] });
    const seen = await echo(await send(route, "/h/x"));
    // The platform derives Host from the URL (Cloudflare honours another Host only within the zone).
    expect(seen.headers["host"]).toBe(`127.0.0.1:${backendPorts[0]}`);
    expect(seen.headers["x-forwarded-host"]).toBe("www.example.com");
  });
});

describe("proxy: response rewrites", () => {
  beforeEach(resetBackends);

  it("Location by rule, with captures", async () => {
    const route = routeOf({
      prefix: "/app/",
      backends: [backendUrl(0)],
      rewriteResponse: [{ header: "location", match: "^http://127\\.0\\.0\\.1:\\d+/api/(.*)$", replace: "https://www.example.com/app/v1/$1" }],
    });
    const res = await send(route, "/app/x", { headers: { "x-echo-location": `${backendUrl(0)}/api/next?page=2`, "x-echo-status": "302" } });
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("https://www.example.com/app/v1/next?page=2");
    // A Location the rule does not match is left alone (no default once a rule exists).
    const other = await send(route, "/app/x", { headers: { "x-echo-location": `${backendUrl(0)}/elsewhere`, "x-echo-status": "301" } });
    expect(other.headers.get("location")).toBe(`${backendUrl(0)}/elsewhere`);
  });

  it("without a Location rule the backend's own URLs become the public ones; foreign ones are kept", async () => {
    const route = routeOf({ prefix: "/app/", backends: [`${backendUrl(1)}/base`] });
    let res = await send(route, "/app/x", { headers: { "x-echo-location": `${backendUrl(1)}/base/app/y?z=1`, "x-echo-status": "307" } });
    expect(res.headers.get("location")).toBe("https://www.example.com/app/y?z=1");
    res = await send(route, "/app/x", { headers: { "x-echo-location": "/base/rel", "x-echo-status": "303" } });
    expect(res.headers.get("location")).toBe("https://www.example.com/rel");
    res = await send(route, "/app/x", { headers: { "x-echo-location": "https://sso.example.net/login", "x-echo-status": "302" } });
    expect(res.headers.get("location")).toBe("https://sso.example.net/login");
  });

  it("other headers, Set-Cookie cookie by cookie", async () => {
    const route = routeOf({
      prefix: "/app/",
      backends: [backendUrl(2)],
      rewriteResponse: [
        { header: "set-cookie", match: "Domain=backend\\.internal", replace: "Domain=www.example.com" },
        { header: "x-served-by", match: "^node-(\\d+)$", replace: "edge-$1" },
      ],
    });
    const extra = { "set-cookie": ["a=1; Domain=backend.internal; Path=/", "b=2; Path=/"], "x-served-by": "node-7" };
    const res = await send(route, "/app/x", { headers: { "x-echo-header": JSON.stringify(extra) } });
    expect(res.headers.getSetCookie()).toEqual(["a=1; Domain=www.example.com; Path=/", "b=2; Path=/"]);
    expect(res.headers.get("x-served-by")).toBe("edge-7");
    expect((await echo(res)).backend).toBe("b2");
  });

  it("runs patterns that are catastrophic for a backtracking engine in linear time, same results", () => {
    // Native RegExp needs ~2^n steps for "(a+)+$" on n "a"s and a mismatch: 30 already take
    // many seconds, 50,000 would never end. RE2 answers by construction in O(pattern · value).
    const route = routeOf({
      prefix: "/app/",
      backends: ["http://a:1"],
      rewriteRequest: [
        { header: "uri", match: "^/app/(a+)+$", replace: "/$1" },
        { header: "x-tenant", match: "^(x+x+)+y$", replace: "never" },
      ],
      rewriteResponse: [{ header: "location", match: "^(.*a){12}$", replace: "/twelve" }],
    });
    const many = "a".repeat(50_000);
    const hostile = rewriteRequest(route.rewriteRequest, `/app/${many}!`, "h", new Headers({ "x-tenant": "x".repeat(50_000) }));
    expect(hostile.target).toBe(`/app/${many}!`);
    expect(hostile.headers.get("x-tenant")).toBe("x".repeat(50_000));
    expect(rewriteRequest(route.rewriteRequest, `/app/${many}`, "h", new Headers()).target).toBe(`/${many}`);
    const loc = rewriteResponse(route.rewriteResponse, new Headers({ location: "/" + "a".repeat(11) + "b".repeat(20_000) }), (l) => l);
    expect(loc.get("location")).toBe("/" + "a".repeat(11) + "b".repeat(20_000));
    expect(rewriteResponse(route.rewriteResponse, new Headers({ location: "/ab".repeat(12) + "a" }), (l) => l).get("location")).toBe("/twelve");
  });

  it("replacement strings keep String.prototype.replace's meaning: only the first match, $&, $$, $<name>", () => {
    const rules = routeOf({
      prefix: "/",
      backends: ["http://a:1"],
      rewriteResponse: [
        { header: "x-a", match: "b", replace: "[$&$$]" },
        { header: "x-b", match: "(?<word>[a-z]+)-(\\d)", replace: "$2:$<word>" },
      ],
    }).rewriteResponse;
    const out = rewriteResponse(rules, new Headers({ "x-a": "abcb", "x-b": "x=item-7-more-8" }), (l) => l);
    expect(out.get("x-a")).toBe("a[b$]cb");
    expect(out.get("x-b")).toBe("x=7:item-more-8");
  });

  it("pure: the default Location rewrite applies only when no rule names Location", () => {
    const rules = routeOf({ prefix: "/", backends: ["http://a:1"], rewriteResponse: [{ header: "x-a", match: "1", replace: "2" }] }).rewriteResponse;
    const out = rewriteResponse(rules, new Headers({ location: "http://a:1/p", "x-a": "1" }), (l) => l.replace("http://a:1", "https://pub"));
    expect(out.get("location")).toBe("https://pub/p");
    expect(out.get("x-a")).toBe("2");
  });
});
