import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { mayHoldToken, partitionTokenQuery } from "../../src/signing/token-query";
import { signToken, TOKEN_PARAM } from "../../src/signing/redirect-token";
import { putFile, stats, uniquePath } from "../support/origin";
import { nodeFetch } from "../support/node";
import { fetchWithVars } from "../support/app";

const OLD = { id: "k1", secret: "node-test-secret-0001" };
const NEW = { id: "k2", secret: "node-test-secret-0002" };
const REQUIRED = { REQUIRE_SIGNED_URLS: "true" };
const now = () => Math.floor(Date.now() / 1000);

describe("node: signed redirects from the base", () => {
  it("serves a request carrying a valid token from either key (rotation) and keeps the token out of the cache key", async () => {
    const path = uniquePath("signed.bin");
    await putFile(path, 10_000);
    for (const key of [NEW, OLD]) {
      // The query is keyed: the token signs it (here: none).
      const token = await signToken(key, { path, expires: now() + 60, query: "" });
      const res = await fetchWithVars({ ...REQUIRED, CACHE_KEY_QUERY: "true" }, `${path}?${TOKEN_PARAM}=${encodeURIComponent(token)}`);
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    // Two different tokens, one object: the token is not part of the key nor sent upstream.
    expect((await stats(path)).gets).toBe(1);
  });

  it("answers 403 with the reason for a missing, expired, tampered or other-client token", async () => {
    const path = uniquePath("guarded.bin");
    await putFile(path, 10_000);
    const valid = await signToken(NEW, { path, expires: now() + 60 });
    const cases: Array<[string, RegExp]> = [
      ["", /missing/],
      [await signToken(NEW, { path, expires: now() - 1 }), /expired/],
      [await signToken(NEW, { path: `${path}.other`, expires: now() + 60 }), /bad-signature/],
      [valid.slice(0, -2) + (valid.endsWith("AA") ? "BB" : "AA"), /bad-signature|malformed/],
      [await signToken({ id: "k9", secret: "some-other-secret-xyz" }, { path, expires: now() + 60 }), /unknown-key/],
      [await signToken(NEW, { path, expires: now() + 60, client: "203.0.113.1" }), /wrong-client/],
    ];
    for (const [token, reason] of cases) {
      const q = token ? `?${TOKEN_PARAM}=${encodeURIComponent(token)}` : "";
      const res = await fetchWithVars(REQUIRED, `${path}${q}`, { ip: "198.51.100.5" });
      expect(res.status, String(reason)).toBe(403);
      expect(await res.text()).toMatch(reason);
    }
    const bound = await signToken(NEW, { path, expires: now() + 60, client: "198.51.100.5" });
    const ok = await fetchWithVars(REQUIRED, `${path}?${TOKEN_PARAM}=${encodeURIComponent(bound)}`, { ip: "198.51.100.5" });
    expect(ok.status).toBe(200);
    await ok.arrayBuffer();
  });

  it("ignores tokens when not required", async () => {
    const path = uniquePath("open.bin");
    await putFile(path, 1000);
    const res = await nodeFetch(`${path}?${TOKEN_PARAM}=garbage`);
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  });

  it("never answers 5xx for a malformed token, and refuses two tokens with 400 (issue #11 M1)", async () => {
    const path = uniquePath("malformed-token.bin");
    await putFile(path, 1000);
    const junk = ["%", "%zz", "%E0%A4%A", "%ff%fe", "k1.%.x.p.y", "a.b.c.d", encodeURIComponent("é".repeat(300))];
    for (const value of junk) {
      // Not required: the token is dropped and the file served.
      const open = await nodeFetch(`${path}?${TOKEN_PARAM}=${value}`);
      expect(open.status, value).toBe(200);
      await open.arrayBuffer();
      // Required: 403 naming the reason, never 500.
      const guarded = await fetchWithVars(REQUIRED, `${path}?${TOKEN_PARAM}=${value}`);
      expect(guarded.status, value).toBe(403);
      expect(await guarded.text()).toMatch(/^forbidden: .*malformed/);
    }
    const valid = await signToken(NEW, { path, expires: now() + 60 });
    for (const query of [`${TOKEN_PARAM}=%&${TOKEN_PARAM}=${valid}`, `${TOKEN_PARAM}=${valid}&${TOKEN_PARAM}=${valid}`, `${TOKEN_PARAM}=${valid}&offload%5Ftoken=x`]) {
      for (const vars of [{}, REQUIRED]) {
        const res = await fetchWithVars(vars, `${path}?${query}`);
        expect(res.status, query).toBe(400);
        const text = await res.text();
        expect(text).toMatch(/^bad request: 2 offload_token parameters/);
        expect(text.trim().split("\n")).toHaveLength(1);
      }
    }
  });

  it("refuses two tokens in every spelling whether or not the query is signed or keyed", async () => {
    const path = uniquePath("two-tokens.bin");
    await putFile(path, 1000);
    const two = ["offload%5Ftoken=a&offload%5ftoken=b", "%6Fffload_token=a&offload_token=b", "x=1&&offload_token=a&offload_token", "offload_token&offload%5Ftoken"];
    // Names that are not the token's (the name is case-sensitive, as at the base).
    const notTwo = ["Offload_token=a&Offload_token=b", "offload_tokenx=a&offload_token=b", "x=offload_token&offload_token=b", "a=%41&OFFLOAD%5FTOKEN=b&offload_token=c"];
    for (const vars of [{}, { CACHE_KEY_QUERY: "true" }] as Array<Record<string, string>>) {
      for (const query of two) {
        const res = await fetchWithVars(vars, `${path}?${query}`);
        expect(res.status, `${JSON.stringify(vars)} ${query}`).toBe(400);
        expect(await res.text()).toMatch(/^bad request: 2 offload_token parameters/);
      }
      for (const query of notTwo) {
        const res = await fetchWithVars(vars, `${path}?${query}`);
        expect(res.status, `${JSON.stringify(vars)} ${query}`).toBe(200);
        await res.arrayBuffer();
      }
    }
  });

  it("finds every token the canonical query holds, without canonicalising queries that cannot hold one", () => {
    const piece = fc.constantFrom("offload_token", "offload%5Ftoken", "%6fffload_token", "Offload_token", "=", "&", "a", "%", "%5F", "_", "token");
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }).map((p) => p.join("")), (raw) => {
        if (!mayHoldToken(raw)) expect(partitionTokenQuery(raw).tokens).toEqual([]);
      }),
      { numRuns: 3000 },
    );
  });

  it("with CACHE_KEY_QUERY, a token is good for its own query only (issue #11 M5)", async () => {
    const path = uniquePath("keyed.bin");
    await putFile(path, 1000);
    const vars = { ...REQUIRED, CACHE_KEY_QUERY: "true" };
    const forV1 = await signToken(NEW, { path, expires: now() + 60, query: "v=1" });
    const ok = await fetchWithVars(vars, `${path}?v=1&${TOKEN_PARAM}=${forV1}`);
    expect(ok.status).toBe(200);
    await ok.arrayBuffer();
    // Another spelling of the same query is the same key and the same signature.
    const spelled = await fetchWithVars(vars, `${path}?${TOKEN_PARAM}=${forV1}&v=%31&`);
    expect(spelled.status).toBe(200);
    await spelled.arrayBuffer();
    for (const q of ["v=2", "v=1&v=2", "", "w=1"]) {
      const res = await fetchWithVars(vars, `${path}?${q ? `${q}&` : ""}${TOKEN_PARAM}=${forV1}`);
      expect(res.status, q).toBe(403);
      expect(await res.text()).toMatch(/bad-signature/);
    }
    // A token that does not sign the query is refused where the query is keyed.
    const pathOnly = await signToken(NEW, { path, expires: now() + 60 });
    const res = await fetchWithVars(vars, `${path}?v=3&${TOKEN_PARAM}=${pathOnly}`);
    expect(res.status).toBe(403);
    expect(await res.text()).toMatch(/wrong-scope/);
    expect((await stats(path)).gets).toBe(1);
  });

  it("bounds token lifetime by TOKEN_MAX_TTL_SECONDS and can require client binding (issue #11 Tokens)", async () => {
    const path = uniquePath("lifetime.bin");
    await putFile(path, 1000);
    const far = await signToken(NEW, { path, expires: now() + 1e14 });
    const refused = await fetchWithVars(REQUIRED, `${path}?${TOKEN_PARAM}=${far}`);
    expect(refused.status).toBe(403);
    expect(await refused.text()).toMatch(/too-long/);
    const day = await signToken(NEW, { path, expires: now() + 86_400 });
    expect((await fetchWithVars(REQUIRED, `${path}?${TOKEN_PARAM}=${day}`)).status).toBe(403);
    const allowed = await fetchWithVars({ ...REQUIRED, TOKEN_MAX_TTL_SECONDS: "86400" }, `${path}?${TOKEN_PARAM}=${day}`);
    expect(allowed.status).toBe(200);
    await allowed.arrayBuffer();
    // The base's default lifetime passes the node's default bound.
    const hour = await signToken(NEW, { path, expires: now() + 3600 });
    const fine = await fetchWithVars(REQUIRED, `${path}?${TOKEN_PARAM}=${hour}`);
    expect(fine.status).toBe(200);
    await fine.arrayBuffer();

    const bindVars = { ...REQUIRED, REQUIRE_TOKEN_CLIENT: "true" };
    const unbound = await fetchWithVars(bindVars, `${path}?${TOKEN_PARAM}=${hour}`, { ip: "198.51.100.5" });
    expect(unbound.status).toBe(403);
    expect(await unbound.text()).toMatch(/unbound/);
    const bound = await signToken(NEW, { path, expires: now() + 60, client: "198.51.100.5" });
    const ok = await fetchWithVars(bindVars, `${path}?${TOKEN_PARAM}=${bound}`, { ip: "198.51.100.5" });
    expect(ok.status).toBe(200);
    await ok.arrayBuffer();
    // Binding without checking tokens would protect nothing: a configuration error naming the field.
    const bad = await fetchWithVars({ REQUIRE_TOKEN_CLIENT: "true" }, path);
    expect(bad.status).toBe(500);
    expect(await bad.text()).toMatch(/REQUIRE_TOKEN_CLIENT/);
    for (const ttl of ["0", "soon", String(8 * 86_400)]) {
      const r = await fetchWithVars({ TOKEN_MAX_TTL_SECONDS: ttl }, path);
      expect(r.status).toBe(500);
      expect(await r.text()).toMatch(/TOKEN_MAX_TTL_SECONDS/);
    }
  });

  it("reports its health and load to the base", async () => {
    const res = await nodeFetch("/.well-known/offload/health");
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ node: "test-node", load: expect.any(Number) });
  });
});
