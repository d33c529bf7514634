// Issue #14: bad mirror input from the admin (JSON API and HTML form) is refused with a
// 4xx naming the field, and nothing is stored (neither the mirror nor a history row);
// the MIRRORS seed obeys the same address rule.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { catalogView, CATALOG_VIEW_TTL_MS } from "../../../src/mirrors/catalog-view";
import { api, bearer, deployFetch, listed, TOKEN, variantEnv } from "./catalog-support";

// A public seed and no MIRRORS_ALLOW_PRIVATE: the production rules.
const strict = { OFFLOAD_NODES: "", MIRRORS: JSON.stringify([{ id: "pub", url: "https://mirror.example.org/pub" }]), MIRRORS_ALLOW_PRIVATE: "false" };
const lax = { OFFLOAD_NODES: "", MIRRORS: "" };

afterEach(async () => {
  for (const m of (await listed(lax)).mirrors) await api(lax, "DELETE", `/mirrors/${m.id}`);
});

const BAD: [string, Record<string, unknown>, RegExp][] = [
  ["credentials", { url: "https://user:secret@mirror.example.org/" }, /^url: must not carry credentials/],
  ["non-HTTP scheme", { url: "ftp://mirror.example.org/pub" }, /^url: must be http or https/],
  ["javascript: URL", { url: "javascript:alert(1)" }, /^url: must be http or https/],
  ["no URL", { id: "x" }, /^url: is required/],
  ["not a URL", { url: "mirror.example.org" }, /^url: .*not an absolute URL/],
  ["loopback IPv4", { url: "http://127.0.0.1:8080/" }, /^url: 127\.0\.0\.1 is a private, loopback or link-local address/],
  ["private IPv4", { url: "http://10.1.2.3/" }, /^url: 10\.1\.2\.3 is a private/],
  ["private IPv4 (172.16/12)", { url: "http://172.20.0.5/" }, /^url: 172\.20\.0\.5 is a private/],
  ["link-local IPv4 (cloud metadata)", { url: "http://169.254.169.254/latest/" }, /^url: 169\.254\.169\.254 is a private/],
  ["loopback IPv6", { id: "v6", url: "http://[::1]:8080/" }, /^url: \[::1\] is a private/],
  ["IPv4-mapped loopback", { id: "v6", url: "http://[::ffff:127.0.0.1]/" }, /^url: \[::ffff:7f00:1\] is a private/],
  ["unique-local IPv6", { id: "v6", url: "http://[fd00::1]/" }, /^url: \[fd00::1\] is a private/],
  ["localhost", { url: "http://localhost:8080/" }, /^url: localhost is a loopback name/],
  ["bad id", { id: "a b", url: "https://m.example.org/" }, /^id: must be 1-64 of/],
  ["weight 0", { url: "https://m.example.org/", weight: 0 }, /^weight: must be a number > 0/],
  ["weight as text", { url: "https://m.example.org/", weight: "2" }, /^weight: must be a number > 0/],
  ["prefix without /", { url: "https://m.example.org/", prefixes: ["iso/"] }, /^prefixes: must be a list of paths/],
  ["latitude out of range", { url: "https://m.example.org/", location: { lat: 200, lon: 0 } }, /^location\.lat: must be a number in -90\.\.90/],
  ["country not two letters", { url: "https://m.example.org/", location: { lat: 1, lon: 1, country: "France" } }, /^location\.country: must be a two-letter code/],
  ["a node", { url: "https://m.example.org/", kind: "node" }, /^kind: must be "mirror"/],
  ["originEtags not boolean", { url: "https://m.example.org/", originEtags: "yes" }, /^originEtags: must be true or false/],
];

describe("mirror catalog: bad input names the field and stores nothing", () => {
  it.each(BAD)("POST %s -> 400", async (_name, body, reason) => {
    const before = await listed(strict);
    const res = await api(strict, "POST", "/mirrors", body);
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(reason);
    const after = await listed(strict);
    expect(after.mirrors).toEqual(before.mirrors);
    expect(after.history).toEqual(before.history);
  });

  it("PATCH: a bad field, an id change or a private address is 400 and the mirror stays as it was", async () => {
    expect((await api(strict, "POST", "/mirrors", { id: "keep", url: "https://keep.example.org/pub", weight: 3 })).status).toBe(201);
    const before = await listed(strict);
    for (const [patch, reason] of [
      [{ weight: -1 }, /^weight: /],
      [{ id: "other" }, /^id: cannot be changed/],
      [{ url: "http://192.168.1.10/" }, /^url: 192\.168\.1\.10 is a private/],
      [{ url: "https://u:p@keep.example.org/" }, /^url: must not carry credentials/],
      [{ url: null }, /^url: is required/],
    ] as const) {
      const res = await api(strict, "PATCH", "/mirrors/keep", patch);
      expect(res.status, JSON.stringify(patch)).toBe(400);
      expect(await res.text()).toMatch(reason);
    }
    expect(await listed(strict)).toEqual(before);
    await api(strict, "DELETE", "/mirrors/keep");
  });

  it("bodies that are not a JSON object are refused before anything runs", async () => {
    expect((await api(strict, "POST", "/mirrors", "not json")).status).toBe(400);
    expect((await api(strict, "POST", "/mirrors", "[1,2]")).status).toBe(400);
    const plainText = await deployFetch(strict, "/_admin/api/mirrors", { method: "POST", headers: { ...bearer, "content-type": "text/plain" }, body: "{}" });
    expect(plainText.status).toBe(415);
    expect((await deployFetch(strict, "/_admin/api/mirrors", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })).status).toBe(401);
    expect((await listed(strict)).mirrors.map((m) => m.id)).toEqual(["pub"]);
  });

  it("with MIRRORS_ALLOW_PRIVATE=true a 127.0.0.1 mirror is accepted", async () => {
    expect((await api(lax, "POST", "/mirrors", { id: "local", url: "http://127.0.0.1:9/" })).status).toBe(201);
  });

  it("a private address in the MIRRORS seed fails the config, naming MIRRORS[i].url", async () => {
    const res = await deployFetch({ ...strict, MIRRORS: JSON.stringify([{ url: "https://ok.example.org" }, { url: "http://10.0.0.7/pub" }]) }, "/x.iso");
    expect(res.status).toBe(500);
    expect(await res.text()).toMatch(/MIRRORS\[1\]\.url: 10\.0\.0\.7 is a private/);
  });
});

describe("mirror catalog: HTML forms (session cookie + CSRF)", () => {
  const basic = { authorization: `Basic ${btoa(`ops:${TOKEN}`)}` };
  const post = async (path: string, fields: Record<string, string>) => {
    const page = await (await deployFetch(strict, "/_admin", { headers: basic })).text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(page)![1]!;
    return deployFetch(strict, path, { method: "POST", headers: { ...basic, "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ csrf, ...fields }).toString() });
  };

  it("add, disable and edit through the forms; the card shows the mirror and its history", async () => {
    const add = await post("/_admin/mirrors", { id: "formed", url: "https://formed.example.org/pub", weight: "4", prefixes: "/iso/ /img/", lat: "48.85", lon: "2.35", country: "fr" });
    expect(add.status, await add.clone().text()).toBe(303);
    expect(add.headers.get("location")).toBe("/_admin?done=mirror+added#mirrors");
    expect((await post("/_admin/mirrors/state", { id: "formed", op: "disable" })).status).toBe(303);
    expect((await post("/_admin/mirrors/edit", { id: "formed", weight: "6" })).status).toBe(303);
    const m = (await listed(strict)).mirrors.find((x) => x.id === "formed")!;
    expect(m).toMatchObject({ enabled: false, spec: { weight: 6, prefixes: ["/iso/", "/img/"], location: { lat: 48.85, lon: 2.35, country: "FR" } } });
    const page = await (await deployFetch(strict, "/_admin", { headers: basic })).text();
    expect(page).toMatch(/<tr data-mirror="formed">[\s\S]*?https:\/\/formed\.example\.org\/pub[\s\S]*?class="state disabled"/);
    expect(page).toContain("<td>formed</td><td>admin (basic)</td><td>edited</td>");
    await api(strict, "DELETE", "/mirrors/formed");
  });

  it("bad form input: 400 naming the field, nothing stored; an unknown op or id too", async () => {
    const before = await listed(strict);
    const cases: [string, Record<string, string>, number, RegExp][] = [
      ["/_admin/mirrors", { url: "https://a:b@x.example.org/" }, 400, /^url: must not carry credentials/],
      ["/_admin/mirrors", { url: "http://127.0.0.1/" }, 400, /^url: 127\.0\.0\.1 is a private/],
      ["/_admin/mirrors", { url: "https://x.example.org/", weight: "heavy" }, 400, /^weight: must be a number > 0/],
      ["/_admin/mirrors", { url: "https://x.example.org/", lat: "north", lon: "1" }, 400, /^location\.lat: /],
      ["/_admin/mirrors/state", { id: "pub", op: "explode" }, 400, /^op: must be one of enable, disable, delete, rescan/],
      ["/_admin/mirrors/state", { id: "ghost", op: "disable" }, 404, /unknown mirror "ghost"/],
      ["/_admin/mirrors/edit", { id: "ghost", weight: "2" }, 404, /unknown mirror "ghost"/],
    ];
    for (const [path, fields, status, reason] of cases) {
      const res = await post(path, fields);
      expect(res.status, `${path} ${JSON.stringify(fields)}`).toBe(status);
      expect(await res.text()).toMatch(reason);
    }
    expect(await listed(strict)).toEqual(before);
  });

  it("a form without the CSRF token is refused", async () => {
    const res = await deployFetch(strict, "/_admin/mirrors", { method: "POST", headers: { ...basic, "content-type": "application/x-www-form-urlencoded" }, body: "url=https%3A%2F%2Fy.example.org%2F" });
    expect(res.status).toBe(403);
  });
});

describe("mirror catalog view: how fast a change reaches other isolates", () => {
  it("another isolate sees a change after at most CATALOG_VIEW_TTL_MS (refreshed in the background); the admin's own at once", async () => {
    const seed: never[] = [];
    const other = { ...variantEnv(lax) }; // another isolate of the same deployment: its own per-env views
    const ctx = createExecutionContext();
    const t0 = Date.now();
    const seen = await catalogView(other, seed, ctx, t0);
    expect(seen.mirrors.map((m) => m.spec.id)).not.toContain("spread");

    expect((await api(lax, "POST", "/mirrors", { id: "spread", url: "https://spread.example.org/" })).status).toBe(201);
    // The admin's isolate: at once.
    expect((await listed(lax)).mirrors.map((m) => m.id)).toContain("spread");
    // The other one: still its copy within the TTL, without waiting on the object...
    expect((await catalogView(other, seed, ctx, t0 + CATALOG_VIEW_TTL_MS - 1)).mirrors.map((m) => m.spec.id)).not.toContain("spread");
    // ...and past it, one answer still gets the old copy while the refresh runs in the background.
    expect((await catalogView(other, seed, ctx, t0 + CATALOG_VIEW_TTL_MS + 1)).version).toBe(seen.version);
    await waitOnExecutionContext(ctx);
    const fresh = await catalogView(other, seed, createExecutionContext());
    expect(fresh.version).toBeGreaterThan(seen.version);
    expect(fresh.mirrors.map((m) => m.spec.id)).toContain("spread");
  });
});
