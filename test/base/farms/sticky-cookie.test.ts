import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeBase64url } from "../../../src/signing/base64url";
import { cookieValue } from "../../../src/http/cookie";
import { signSticky, verifySticky, type StickyClaim } from "../../../src/farms/sticky-cookie";
import { C1, C2 } from "./support";

const KEYS = [C2, C1];
const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const NOW = 1_767_225_600_000;
const claim: StickyClaim = { farm: "farm_one", member: "web2", expires: NOW / 1000 + 600 };

/** Replace field `i` (0-based, "~"-separated) of a cookie value. */
function withField(value: string, i: number, text: string): string {
  const parts = value.split("~");
  parts[i] = text;
  return parts.join("~");
}

describe("sticky cookie: format and signature", () => {
  it("is v1~farm~member~expires~keyId~mac64 with the documented HMAC-SHA256", async () => {
    const value = await signSticky(C2, claim);
    expect(value).toMatch(/^v1~farm_one~web2~1767226200~c2~[A-Za-z0-9_-]{43}$/);
    // Recomputed independently from the format comment at the top of sticky-cookie.ts.
    const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(C2.secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode("athena-sticky/v1\nfarm_one\nweb2\n1767226200"));
    expect(value.split("~")[5]).toBe(encodeBase64url(new Uint8Array(mac)));
  });

  it("round trip with the signing key, and with the older key still listed (rotation)", async () => {
    expect(await verifySticky(KEYS, await signSticky(C2, claim), NOW)).toEqual({ ok: true, claim });
    const old = await signSticky(C1, claim);
    expect(old.split("~")[4]).toBe("c1");
    expect(await verifySticky(KEYS, old, NOW)).toEqual({ ok: true, claim });
    // A pure QoS cookie names no member.
    const qos = { farm: "farm_gold", member: "", expires: claim.expires };
    expect(await verifySticky(KEYS, await signSticky(C2, qos), NOW)).toEqual({ ok: true, claim: qos });
  });

  it("a key no longer listed, or an unknown id, is unknown-key", async () => {
    expect(await verifySticky([C2], await signSticky(C1, claim), NOW)).toEqual({ ok: false, reason: "unknown-key" });
    expect(await verifySticky(KEYS, await signSticky({ id: "c9", secret: "another-secret-0009" }, claim), NOW)).toEqual({ ok: false, reason: "unknown-key" });
  });

  it("a known id with another secret is bad-signature", async () => {
    expect(await verifySticky(KEYS, await signSticky({ id: "c2", secret: "not-the-real-secret" }, claim), NOW)).toEqual({ ok: false, reason: "bad-signature" });
  });

  it("tampering with farm, member, expiry or MAC is bad-signature", async () => {
    const value = await signSticky(C2, claim);
    const tampered = [
      withField(value, 1, "farm_gold"),
      withField(value, 2, "web1"),
      withField(value, 2, ""),
      withField(value, 3, String(claim.expires + 86_400)),
      withField(value, 4, "c1"),
    ];
    const mac = value.split("~")[5]!;
    tampered.push(withField(value, 5, mac.slice(0, 10) + (mac[10] === "A" ? "B" : "A") + mac.slice(11)));
    for (const t of tampered) expect(await verifySticky(KEYS, t, NOW), t).toEqual({ ok: false, reason: "bad-signature" });
  });

  it("expires at the second it names (checked after the signature)", async () => {
    const value = await signSticky(C2, claim);
    expect((await verifySticky(KEYS, value, claim.expires * 1000 - 1)).ok).toBe(true);
    expect(await verifySticky(KEYS, value, claim.expires * 1000)).toEqual({ ok: false, reason: "expired" });
    // A forged cookie stays bad-signature even when expired: nothing is said about its claims.
    expect(await verifySticky(KEYS, withField(value, 2, "web1"), claim.expires * 1000 + 1)).toEqual({ ok: false, reason: "bad-signature" });
  });

  it("anything that does not parse is malformed, absence is missing", async () => {
    const value = await signSticky(C2, claim);
    const mac = value.split("~")[5]!;
    expect(await verifySticky(KEYS, null, NOW)).toEqual({ ok: false, reason: "missing" });
    expect(await verifySticky(KEYS, "", NOW)).toEqual({ ok: false, reason: "missing" });
    const malformed = [
      "athena",
      withField(value, 0, "v2"),
      value.split("~").slice(0, 5).join("~"),
      `${value}~x`,
      withField(value, 1, "1farm"),
      withField(value, 1, ""),
      withField(value, 2, "web 2"),
      withField(value, 2, "w".repeat(65)),
      withField(value, 3, "0123"),
      withField(value, 3, "-1"),
      withField(value, 3, "1e12"),
      withField(value, 3, "1".repeat(16)),
      withField(value, 5, mac.slice(0, 42)),
      withField(value, 5, `${mac}=`),
      withField(value, 5, mac.replace(/.$/, (c) => (c === "/" ? "+" : "/"))),
      // Non-canonical spelling of the same bytes (unused low bits set, RFC 4648 §3.5).
      withField(value, 5, mac.slice(0, 42) + B64[B64.indexOf(mac[42]!) | 1]),
      // Over-long (more than 256 characters).
      value + "A".repeat(300),
    ];
    for (const m of malformed) expect(await verifySticky(KEYS, m, NOW), m).toEqual({ ok: false, reason: "malformed" });
  });

  it("refuses to sign what the cookie cannot carry", async () => {
    await expect(signSticky(C2, { ...claim, farm: "farm one" })).rejects.toThrow(TypeError);
    await expect(signSticky(C2, { ...claim, member: "a~b" })).rejects.toThrow(TypeError);
    await expect(signSticky(C2, { ...claim, expires: 1.5 })).rejects.toThrow(TypeError);
  });
});

describe("sticky cookie: never throws on client input (property)", () => {
  const REASONS = ["missing", "malformed", "unknown-key", "bad-signature", "expired"];
  const near = fc.oneof(
    fc.string({ unit: "binary", maxLength: 300 }),
    // Shaped like a cookie, so the checks past the split are reached too.
    fc.tuple(fc.constantFrom("v1", "v2", ""), fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 }), fc.string({ maxLength: 16 }), fc.constantFrom("c1", "c2", "c9", ""), fc.string({ maxLength: 50 })).map((p) => p.join("~")),
    fc.tuple(fc.nat(), fc.nat(60)).map(async ([i, at]) => withField(await signSticky(C2, claim), at % 6, String(i))),
  );

  it("verifySticky gives a typed result for any value, read through cookieValue from any header", async () => {
    await fc.assert(
      fc.asyncProperty(near, async (v) => {
        const value = await v;
        for (const read of [value, cookieValue(`a=1; athena=${value}`, "athena")]) {
          const r = await verifySticky(KEYS, read, NOW);
          if (r.ok) expect(r.claim).toEqual(claim);
          else expect(REASONS).toContain(r.reason);
        }
      }),
      { numRuns: 500 },
    );
  });
});
