import { describe, expect, it } from "vitest";
import { ConfigError } from "../../../src/config/fields";
import { parseProxyRoutes } from "../../../src/config/proxy-config";
import { matchRoute } from "../../../src/proxy/match";
import { RE2JS } from "re2js";

const parse = (routes: unknown) => parseProxyRoutes({ PROXY_ROUTES: typeof routes === "string" ? routes : JSON.stringify(routes) });
const fieldOf = (routes: unknown): string => {
  try {
    parse(routes);
  } catch (e) {
    if (e instanceof ConfigError) return `${e.field} | ${e.message}`;
    throw e;
  }
  return "no error";
};
const ok = { prefix: "/ok/", backends: ["http://10.0.0.1:8080"] };

describe("PROXY_ROUTES parsing", () => {
  it("reads the documented format, with defaults, from a string or an array", () => {
    const spec = [
      {
        prefix: "/app/",
        host: "WWW.Example.com",
        balancer: "fair",
        backends: ["http://10.0.0.1:8080/", { id: "b2", url: "https://10.0.0.2/base", weight: 2 }],
        rewriteRequest: [{ header: "uri", match: "^/app/(.*)$", replace: "/$1" }, { header: "Host", match: ".*", replace: "app.internal" }],
        rewriteResponse: [{ header: "Location", match: "^http://10\\.0\\.0\\.1:8080/(.*)$", replace: "https://www.example.com/app/$1" }],
        sendfile: { allow: true, root: "/srv/files" },
        throttle: "V.92",
        timeoutMs: 5000,
        retries: 1,
        fallbackUrl: "https://static.example.com/",
        forwarded: true,
        trustedProxies: ["10.0.0.0/8", "2001:db8::/32"],
      },
    ];
    const [r] = parse(spec);
    expect(r).toMatchObject({
      field: "PROXY_ROUTES[0]",
      prefix: "/app/",
      host: "www.example.com",
      balancer: "fair",
      backends: [{ id: "10.0.0.1:8080", url: "http://10.0.0.1:8080", weight: 1 }, { id: "b2", url: "https://10.0.0.2/base", weight: 2 }],
      sendfile: { allow: true, root: "/srv/files" },
      throttle: "V.92",
      timeoutMs: 5000,
      retries: 1,
      fallbackUrl: "https://static.example.com",
      forwarded: true,
    });
    expect(r!.rewriteRequest.map((x) => x.header)).toEqual(["uri", "host"]);
    // Compiled for RE2's linear-time engine, never to a backtracking RegExp.
    expect(r!.rewriteRequest[0]!.match).toBeInstanceOf(RE2JS);
    expect(r!.rewriteRequest[0]!.match).not.toBeInstanceOf(RegExp);
    expect(r!.rewriteResponse[0]!.header).toBe("location");
    expect(r!.trustedProxies).toHaveLength(2);
    expect(parseProxyRoutes({ PROXY_ROUTES: [{ prefix: "/x/", backends: "http://a:1,http://b:2" }] })[0]).toMatchObject({
      host: null,
      balancer: "round-robin",
      timeoutMs: 15_000,
      retries: 1, // one more backend than the first: each is tried once
      fallbackUrl: null,
      forwarded: false,
      sendfile: null,
      throttle: null,
      rewriteRequest: [],
    });
    expect(parseProxyRoutes({})).toEqual([]);
  });

  it("accepts every shared strategy and fair", () => {
    for (const balancer of ["round-robin", "weighted", "hash", "bounded-hash", "least-loaded", "geo", "p2c", "fair"]) {
      expect(parse([{ ...ok, balancer }])[0]!.balancer).toBe(balancer);
    }
  });

  it("names the field of every error", () => {
    expect(fieldOf("[{")).toMatch(/^PROXY_ROUTES \| invalid config PROXY_ROUTES: is not valid JSON/);
    expect(fieldOf({ prefix: "/" })).toMatch(/^PROXY_ROUTES \| .*must be a JSON array/);
    expect(fieldOf([ok, ok, { ...ok, prefix: "/x/", rewriteRequest: [{ header: "uri", match: "(unclosed", replace: "" }] }])).toMatch(
      /^PROXY_ROUTES\[1\]\.prefix \| .*"\/ok\/" is already used by PROXY_ROUTES\[0\]/,
    );
    expect(fieldOf([ok, { prefix: "/a/", backends: ["http://a:1"] }, { ...ok, prefix: "/x/", rewriteRequest: [{ header: "uri", match: "(unclosed", replace: "" }] }])).toMatch(
      /^PROXY_ROUTES\[2\]\.rewriteRequest\[0\]\.match \| invalid config PROXY_ROUTES\[2\]\.rewriteRequest\[0\]\.match: /,
    );
    expect(fieldOf([{ ...ok, rewriteResponse: [{ header: "location", match: "^/(a)$", replace: "/$2" }] }])).toMatch(
      /^PROXY_ROUTES\[0\]\.rewriteResponse\[0\]\.replace \| .*refers to \$2 but the match has 1 capture group$/,
    );
    expect(fieldOf([{ ...ok, rewriteRequest: [{ header: "x-a", match: "(?<v>.*)", replace: "$<w>" }] }])).toMatch(/rewriteRequest\[0\]\.replace \| .*\$<w>/);
    expect(fieldOf([{ ...ok, rewriteResponse: [{ header: "uri", match: ".", replace: "" }] }])).toMatch(/^PROXY_ROUTES\[0\]\.rewriteResponse\[0\]\.header \|/);
    expect(fieldOf([{ ...ok, rewriteRequest: [{ header: "bad header", match: ".", replace: "" }] }])).toMatch(/rewriteRequest\[0\]\.header \|/);
    expect(fieldOf([{ ...ok, backends: ["http://a:1", "ftp://b/"] }])).toMatch(/^PROXY_ROUTES\[0\]\.backends\[1\]\.url \| .*http or https/);
    expect(fieldOf([{ ...ok, backends: [{ url: "http://user:pw@a:1" }] }])).toMatch(/^PROXY_ROUTES\[0\]\.backends\[0\]\.url \| .*credentials/);
    expect(fieldOf([{ ...ok, backends: ["not a url"] }])).toMatch(/^PROXY_ROUTES\[0\]\.backends\[0\]\.url \|/);
    expect(fieldOf([{ ...ok, backends: [] }])).toMatch(/^PROXY_ROUTES\[0\]\.backends \| .*at least one/);
    expect(fieldOf([{ ...ok, balancer: "fastest" }])).toMatch(/^PROXY_ROUTES\[0\]\.balancer \| .*"fastest" is not one of round-robin, .*fair/);
    expect(fieldOf([{ ...ok, prefix: "app/" }])).toMatch(/^PROXY_ROUTES\[0\]\.prefix \|/);
    expect(fieldOf([{ ...ok, prefix: "/a/../b/" }])).toMatch(/^PROXY_ROUTES\[0\]\.prefix \| .*dot segments/);
    expect(fieldOf([{ ...ok, host: "bad host/" }])).toMatch(/^PROXY_ROUTES\[0\]\.host \|/);
    expect(fieldOf([{ ...ok, fallbackUrl: "mailto:x@y" }])).toMatch(/^PROXY_ROUTES\[0\]\.fallbackUrl \|/);
    expect(fieldOf([{ ...ok, timeoutMs: 5 }])).toMatch(/^PROXY_ROUTES\[0\]\.timeoutMs \| .*outside 100\.\.600000/);
    expect(fieldOf([{ ...ok, trustedProxies: ["10.0.0.0/8", "10.0.0.0/40"] }])).toMatch(/^PROXY_ROUTES\[0\]\.trustedProxies\[1\] \|/);
    expect(fieldOf([{ ...ok, forwarded: "yes" }])).toMatch(/^PROXY_ROUTES\[0\]\.forwarded \|/);
    expect(fieldOf([{ ...ok, sendfile: { allow: "yes", root: "/x" } }])).toMatch(/^PROXY_ROUTES\[0\]\.sendfile\.allow \|/);
    expect(fieldOf([{ ...ok, throttle: {} }])).toMatch(/^PROXY_ROUTES\[0\]\.throttle \|/);
    expect(fieldOf([{ ...ok, rewriteRequests: [] }])).toMatch(/^PROXY_ROUTES\[0\]\.rewriteRequests \| .*unknown field/);
    // The same prefix on different hosts is not a duplicate.
    expect(fieldOf([ok, { ...ok, host: "a.example" }])).toBe("no error");
  });
});

describe("PROXY_ROUTES rewrite patterns: RE2 syntax, linear time", () => {
  const withRule = (match: string, side: "rewriteRequest" | "rewriteResponse" = "rewriteRequest") => [
    ok,
    { prefix: "/a/", backends: ["http://a:1"] },
    { prefix: "/x/", backends: ["http://a:1"], [side]: [{ header: "location", match: "^/ok$", replace: "/" }, { header: "x-a", match, replace: "" }] },
  ];

  it("refuses backreferences and lookaround (no linear-time engine runs them), naming the field", () => {
    for (const match of ["^/(a)\\1$", "(?<n>a)\\k<n>", "^/app(?=/)", "^/app(?!/admin)", "(?<=/app)/x", "(?<!/app)/x", "(a)\\2"]) {
      for (const side of ["rewriteRequest", "rewriteResponse"] as const) {
        const where = `PROXY_ROUTES[2].${side}[1].match`.replace(/[[\].]/g, "\\$&");
        expect(fieldOf(withRule(match, side)), match).toMatch(new RegExp(`^${where} \\| invalid config ${where}: .*RE2 syntax`));
      }
    }
  });

  it("accepts the documented rules and the usual JavaScript regex syntax", () => {
    for (const match of [
      "^/app/(.*)$", "^http://10\\.0\\.0\\.\\d+:8080/(.*)$", "^/app/v1/(\\w+)/(\\d+)", "^(?<name>\\w+)$", "Domain=backend\\.internal",
      "^\\/a\\-b\\s*$", "[^/]+\\.iso$", "(?i)^/APP/", "^(a+)+$", "^(?:x|y){2,5}z?$",
    ]) {
      expect(fieldOf(withRule(match)), match).toBe("no error");
    }
  });
});

describe("matchRoute", () => {
  const routes = parse([
    { prefix: "/", backends: ["http://any:1"] },
    { prefix: "/app/", backends: ["http://app:1"] },
    { prefix: "/app/admin", backends: ["http://admin:1"] },
    { prefix: "/app/", host: "beta.example.com", backends: ["http://beta:1"] },
    { prefix: "/api/", host: "api.example.com:8443", backends: ["http://api:1"] },
  ]);
  const hostOf = (host: string, path: string) => matchRoute(routes, host, path)?.backends[0]!.id ?? null;

  it("takes the longest prefix on a segment boundary, whatever the configured order", () => {
    expect(routes.map((r) => `${r.host ?? "*"}${r.prefix}`)).toEqual(["*/app/admin", "beta.example.com/app/", "api.example.com:8443/api/", "*/app/", "*/"]);
    expect(hostOf("www.example.com", "/app/x")).toBe("app:1");
    expect(hostOf("www.example.com", "/app")).toBe("app:1");
    expect(hostOf("www.example.com", "/app/admin/users")).toBe("admin:1");
    expect(hostOf("www.example.com", "/app/admin")).toBe("admin:1");
    expect(hostOf("www.example.com", "/app/administrator")).toBe("app:1");
    expect(hostOf("www.example.com", "/application")).toBe("any:1");
  });

  it("prefers a route naming the request's host; a port in the route must match too", () => {
    expect(hostOf("Beta.Example.com", "/app/x")).toBe("beta:1");
    expect(hostOf("beta.example.com:8080", "/app/x")).toBe("beta:1");
    expect(hostOf("api.example.com:8443", "/api/v1")).toBe("api:1");
    expect(hostOf("api.example.com", "/api/v1")).toBe("any:1");
    expect(matchRoute(parse([ok]), "www.example.com", "/other")).toBeNull();
  });
});
