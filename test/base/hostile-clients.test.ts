// Hostile clients at the base (issue #11 M1, M5, L1, L3): malformed encodings, tokens of
// their own, reserved paths in odd spellings, and a Host of their choosing. Real worker,
// real origin, real bindings.
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { TOKEN_PARAM, verifyToken } from "../../src/signing/redirect-token";
import { putBody, putFile, behave, recentRequests, totalStats, uniquePath } from "../support/origin";
import { baseFetch, baseWithVars, originUrl } from "./support";
import { putMirrored, realM1Url, settledFetch, withRealM1 } from "./mirror-support";

const KEYS = [{ id: "k1", secret: "node-test-secret-0001" }];
const ATH = "ath-test-token-0123456789";
const ADMIN = "admin-test-token-0123456789";
const now = () => Math.floor(Date.now() / 1000);

/** A request whose URL (and so whose Host, in production) the client chose. */
function fetchAs(host: string, path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("host", host);
  headers.set("cf-connecting-ip", "198.51.100.7");
  const req = new Request(`http://${host}${path}`, { ...init, headers, redirect: "manual" });
  return (exports as unknown as { default: Fetcher }).default.fetch(req);
}

const tokensIn = (url: string) => new URL(url).searchParams.getAll(TOKEN_PARAM);

describe("base: a client's own offload_token (M1)", () => {
  it("strips every client-sent token before signing: the Location carries exactly one, ours", async () => {
    const path = uniquePath("strip.bin");
    await putFile(path, 200_000);
    for (const sent of [`${TOKEN_PARAM}=%`, `${TOKEN_PARAM}=k1.1.AA.p.x&v=1`, `v=1&offload%5Ftoken=junk`, `${TOKEN_PARAM}&${TOKEN_PARAM}=%zz`]) {
      const res = await baseFetch(`${path}?${sent}`);
      expect(res.status, sent).toBe(307);
      const location = res.headers.get("location")!;
      expect(tokensIn(location), sent).toHaveLength(1);
      expect(location).not.toMatch(/offload%5Ftoken|junk|%zz/i);
      const check = await verifyToken(KEYS, tokensIn(location)[0]!, { path, now: now() });
      expect(check.ok, sent).toBe(true);
      // Every Link and X-Mirrored-By URL too.
      for (const url of [...res.headers.get("link")!.matchAll(/<([^>]+)>/g)].map((m) => m[1]!)) {
        if (url.startsWith("http")) expect(tokensIn(url).length, url).toBeLessThanOrEqual(1);
      }
      await res.text();
    }
  });

  it("gives mirrors no token at all, client-sent ones included", async () => {
    const path = uniquePath("strip.iso").replace(/^\/t\//, "/iso/");
    // A mirror is named only once it holds the current copy (issue #14): a real one that does.
    await putMirrored(path, 200_000);
    const res = await settledFetch(withRealM1, `${path}?${TOKEN_PARAM}=mine&v=1`);
    const all = (res.headers.get("x-mirrored-by") ?? "").split(",").map((s) => s.trim()).filter(Boolean);
    const ofMirror = all.filter((u) => u.startsWith(realM1Url));
    expect(ofMirror.length).toBeGreaterThan(0);
    for (const u of ofMirror) expect(u).toBe(`${realM1Url}${path}?v=1`);
    await res.text();
  });
});

describe("base: with CACHE_KEY_QUERY the token signs the query (M5)", () => {
  it("signs the canonical query, so the node can refuse the token for any other", async () => {
    const path = uniquePath("keyed.bin");
    await putFile(path, 200_000);
    const res = await baseWithVars({ CACHE_KEY_QUERY: "true" }, `${path}?v=%31&&${TOKEN_PARAM}=old`);
    const location = res.headers.get("location")!;
    expect(location).toContain(`${path}?v=1&${TOKEN_PARAM}=`);
    const token = tokensIn(location)[0]!;
    expect(await verifyToken(KEYS, token, { path, now: now(), query: "v=1", queryKeyed: true })).toMatchObject({ ok: true });
    expect(await verifyToken(KEYS, token, { path, now: now(), query: "v=2", queryKeyed: true })).toMatchObject({ ok: false, reason: "bad-signature" });
    await res.text();
    // Without it, the token covers the path only (the nodes ignore the query).
    const plain = await baseFetch(`${path}?v=1`);
    expect(tokensIn(plain.headers.get("location")!)[0]!.split(".")[3]).toBe("p");
    await plain.text();
    const bad = await baseWithVars({ CACHE_KEY_QUERY: "maybe" }, path);
    expect(bad.status).toBe(500);
    expect(await bad.text()).toContain("CACHE_KEY_QUERY");
  });
});

describe("base: reserved paths in every spelling (L1)", () => {
  const spellings = [
    "//_admin",
    "//_admin/api/farms",
    "/%5Fadmin",
    "/%5fadmin/login",
    "/_admin//login",
    "/_admin/api//farms",
    `//ath/update?farm=farm_one&member=web1&load=1&token=${ATH}`,
    `/ath//update?farm=farm_one&member=web1&load=1&token=${ATH}`,
    `/%61th/update?farm=farm_one&member=web1&load=1&token=${ATH}`,
    `//ath//balance/?farm_one&token=${ATH}`,
    `//ath/balance?farm_one&token=${ATH}`,
    // What Tomcat/Jetty (";params" stripped) or IIS (case folded) would read as ours.
    `/ath;x/update?farm=farm_one&member=web1&load=1&token=${ATH}`,
    "/_admin;jsessionid=1/api/farms",
    `/ATH/balance/?farm_one&token=${ATH}`,
    "/_Admin",
  ];

  it("answers 400 with one plain line for a non-canonical spelling, and never forwards it to the origin", async () => {
    const before = await totalStats();
    for (const path of spellings) {
      for (const method of ["GET", "POST"]) {
        const res = await baseFetch(path, { method, headers: { authorization: `Bearer ${ADMIN}` } });
        expect(res.status, `${method} ${path}`).toBe(400);
        expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
        const text = await res.text();
        expect(text).toMatch(/^bad request path: reserved path \(\/_admin, \/ath\) in a non-canonical spelling/);
        expect(text.trim().split("\n")).toHaveLength(1);
        expect(text).not.toContain(ATH);
      }
    }
    const after = await totalStats();
    expect([after.gets, after.heads]).toEqual([before.gets, before.heads]);
    expect((await recentRequests()).some((r) => String(r["url"]).includes(ATH))).toBe(false);
  });

  it("still serves the canonical spellings, and no reserved path ever reaches the origin", async () => {
    expect((await baseFetch(`/ath/balance/?farm_one&token=${ATH}`)).status).toBe(200);
    expect((await baseFetch("/_admin/api/farms", { headers: { authorization: `Bearer ${ADMIN}` } })).status).toBe(200);
    const before = await totalStats();
    for (const path of ["/ath", "/_admin/nothing-here", "/ath/nothing"]) {
      const res = await baseFetch(path);
      expect(res.status, path).toBeGreaterThanOrEqual(400);
      expect(res.status, path).toBeLessThan(500);
      await res.text();
    }
    const after = await totalStats();
    expect([after.gets, after.heads]).toEqual([before.gets, before.heads]);
    // Names that merely start like a reserved one are ordinary files.
    const file = uniquePath("x").replace(/^\/t\//, "/_administrivia/");
    await putBody(file, "ok\n");
    expect(await (await baseFetch(file)).text()).toBe("ok\n");
  });
});

describe("base: the client's Host is never the public URL (L3)", () => {
  it("names no host a client sent, in any header or body, without PUBLIC_URL", async () => {
    const big = uniquePath("host.bin");
    await putFile(big, 200_000);
    const small = uniquePath("host.txt");
    await putBody(small, "small\n");
    const moved = uniquePath("moved.bin");
    await putBody(moved, "x");
    await behave(moved, { status: 301, location: `${originUrl}/new/place.bin` });
    const seen: string[] = [];
    const cases: Array<[string, RequestInit]> = [
      [big, {}],
      [`${big}?v=1`, { headers: { accept: "application/metalink4+xml" } }],
      [`${big}.meta4`, {}],
      [small, {}],
      [moved, {}],
      [moved, { method: "POST", body: "a=1" }],
    ];
    for (const [path, init] of cases) {
      const res = await fetchAs("evil.example", path, init);
      expect(res.status, path).toBeLessThan(500);
      res.headers.forEach((v, k) => seen.push(`${path} ${k}: ${v}`));
      seen.push(`${path} body: ${await res.text()}`);
    }
    expect(seen.filter((l) => l.includes("evil.example"))).toEqual([]);
    const describedBy = seen.find((l) => l.startsWith(`${big} link:`))!;
    expect(describedBy).toContain(`<${big}.meta4>; rel=describedby`);
    expect(seen).toContain(`${moved} location: /new/place.bin`);
    // Nor does the origin hear it as X-Forwarded-Host.
    const toOrigin = (await recentRequests()).filter((r) => [small, moved].includes(String(r["path"])));
    expect(toOrigin.length).toBeGreaterThan(0);
    for (const r of toOrigin) expect(r["headerNames"]).not.toContain("x-forwarded-host");
  });

  it("uses PUBLIC_URL when it is set", async () => {
    const moved = uniquePath("moved-pub.bin");
    await putBody(moved, "x");
    await behave(moved, { status: 302, location: `${originUrl}/elsewhere.bin` });
    const res = await baseWithVars({ PUBLIC_URL: "https://downloads.example.org" }, moved, { headers: { host: "evil.example" } });
    expect(res.headers.get("location")).toBe("https://downloads.example.org/elsewhere.bin");
    await res.text();
  });
});
