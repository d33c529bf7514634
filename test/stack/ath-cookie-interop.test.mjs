// The sticky cookie as a backend mints it (scripts/ath-cookie.mjs, node:crypto) must be
// what the base verifies (src/farms/sticky-cookie.ts, WebCrypto), and the other way round:
// two independent implementations of the documented format.
import { describe, expect, it } from "vitest";
import { firstKey, mintStickyCookie } from "../../scripts/ath-cookie.mjs";
import { signSticky, verifySticky } from "../../src/farms/sticky-cookie.ts";

const keys = [
  { id: "c2", secret: "cookie-interop-secret-0002" },
  { id: "c1", secret: "cookie-interop-secret-0001" },
];
const expires = Math.floor(Date.now() / 1000) + 600;

describe("sticky cookie interop (backend script vs worker)", () => {
  it("the worker accepts what the script mints, with either rotation key", async () => {
    for (const key of keys) {
      const value = mintStickyCookie(key, "farm_one", "web1", expires);
      expect(await verifySticky(keys, value)).toEqual({ ok: true, claim: { farm: "farm_one", member: "web1", expires } });
    }
    expect(await verifySticky(keys, mintStickyCookie(keys[0], "farm_gold", "", expires))).toMatchObject({ ok: true, claim: { member: "" } });
  });

  it("byte-identical values from both sides; a one-character change is refused", async () => {
    const fromWorker = await signSticky(keys[0], { farm: "farm_one", member: "10.0.0.1:8080", expires });
    expect(mintStickyCookie(keys[0], "farm_one", "10.0.0.1:8080", expires)).toBe(fromWorker);
    const tampered = fromWorker.replace("~10.0.0.1:8080~", "~10.0.0.2:8080~");
    expect(await verifySticky(keys, tampered)).toEqual({ ok: false, reason: "bad-signature" });
    expect(await verifySticky([keys[1]], fromWorker)).toEqual({ ok: false, reason: "unknown-key" });
  });

  it("reads the signing key from an ATH_COOKIE_KEYS value and refuses a malformed one", () => {
    expect(firstKey("c2:abc,c1:def")).toEqual({ id: "c2", secret: "abc" });
    expect(() => firstKey("no-colon")).toThrow(/ATH_COOKIE_KEYS/);
  });
});
