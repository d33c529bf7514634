import { describe, expect, it } from "vitest";
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
      const token = await signToken(key, { path, expires: now() + 60 });
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

  it("reports its health and load to the base", async () => {
    const res = await nodeFetch("/.well-known/offload/health");
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ node: "test-node", load: expect.any(Number) });
  });
});
