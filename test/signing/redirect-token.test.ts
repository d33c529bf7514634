import { describe, it, expect } from "vitest";
import fc from "fast-check";
import { decodeBase64url, encodeBase64url } from "../../src/signing/base64url";
import { partitionTokenQuery, withTokenMember } from "../../src/signing/token-query";
import { canonicalQuery } from "../../src/http/query";
import {
  TOKEN_PARAM,
  parseSigningKeys,
  signToken,
  verifyToken,
  type SigningKey,
  type TokenCheck,
} from "../../src/signing/redirect-token";

const OLD: SigningKey = { id: "k1", secret: "old-secret-0123456789abcdef" };
const NEW: SigningKey = { id: "k2", secret: "new-secret-0123456789abcdef" };
const OTHER: SigningKey = { id: "k1", secret: "someone-elses-secret-xyz" };
const PATH = "/pub/debian/a%20b.iso";
const NOW = 1_767_225_600;
const V6 = "2001:db8:1:2::/64";

const b64 = (s: string) => encodeBase64url(new TextEncoder().encode(s));
const reason = (c: TokenCheck) => (c.ok ? "ok" : c.reason);
/** Replaces field `i` (0 = key id, 1 expiry, 2 client, 3 scope, 4 MAC) of a token. */
const setField = (token: string, i: number, value: string) => {
  const f = token.split(".");
  f[i] = value;
  return f.join(".");
};

describe("signToken / verifyToken", () => {
  it("round-trips, bound and unbound", async () => {
    const t = await signToken(NEW, { path: PATH, expires: NOW + 60, client: V6 });
    expect(t).toMatch(/^k2\.1767225660\.[A-Za-z0-9_-]+\.p\.[A-Za-z0-9_-]{43}$/);
    expect(t.split(".")[2]).toBe(b64(V6));
    expect(await verifyToken([NEW], t, { path: PATH, now: NOW, client: V6 })).toEqual({ ok: true, keyId: "k2" });

    const unbound = await signToken(NEW, { path: PATH, expires: NOW + 60 });
    expect(unbound.split(".")[2]).toBe("");
    // An unbound token is good from any client, known or not.
    expect(await verifyToken([NEW], unbound, { path: PATH, now: NOW, client: "192.0.2.1" })).toMatchObject({ ok: true });
    expect(await verifyToken([NEW], unbound, { path: PATH, now: NOW })).toMatchObject({ ok: true });
  });

  it("is deterministic and binds every field", async () => {
    const a = await signToken(NEW, { path: PATH, expires: NOW, client: "192.0.2.1" });
    expect(await signToken(NEW, { path: PATH, expires: NOW, client: "192.0.2.1" })).toBe(a);
    expect(await signToken(NEW, { path: PATH + "x", expires: NOW, client: "192.0.2.1" })).not.toBe(a);
    expect(await signToken(OLD, { path: PATH, expires: NOW, client: "192.0.2.1" })).not.toBe(a);
  });

  it("rejects tampering with the right reason", async () => {
    const t = await signToken(NEW, { path: PATH, expires: NOW + 60, client: V6 });
    const expect_ = { path: PATH, now: NOW, client: V6 };
    // Path: the node derives it from the request, so a token replayed on another file fails.
    expect(reason(await verifyToken([NEW], t, { ...expect_, path: "/pub/debian/other.iso" }))).toBe("bad-signature");
    // Expiry pushed into the future.
    expect(reason(await verifyToken([NEW], setField(t, 1, String(NOW + 999_999)), expect_))).toBe("bad-signature");
    // Client rewritten to the attacker's own, who then presents it from there.
    const forged = setField(t, 2, b64("198.51.100.7"));
    expect(reason(await verifyToken([NEW], forged, { ...expect_, client: "198.51.100.7" }))).toBe("bad-signature");
    // Client removed to make the token unbound.
    expect(reason(await verifyToken([NEW], setField(t, 2, ""), expect_))).toBe("bad-signature");
    // Signature: flip one character (keeping it canonical base64url).
    const mac = t.split(".")[4] ?? "";
    const flipped = (mac[0] === "A" ? "B" : "A") + mac.slice(1);
    expect(reason(await verifyToken([NEW], setField(t, 4, flipped), expect_))).toBe("bad-signature");
    // Scope widened from "path only" to "path and query" (or narrowed back).
    expect(reason(await verifyToken([NEW], setField(t, 3, "q"), expect_))).toBe("bad-signature");
    // Key id: to one we know (other secret) and to one we do not.
    expect(reason(await verifyToken([NEW, OLD], setField(t, 0, "k1"), expect_))).toBe("bad-signature");
    expect(reason(await verifyToken([NEW], setField(t, 0, "k9"), expect_))).toBe("unknown-key");
    // Same id, different secret (e.g. another deployment).
    expect(reason(await verifyToken([{ ...OTHER, id: "k2" }], t, expect_))).toBe("bad-signature");
  });

  it("expires at `expires` and refuses a bad clock", async () => {
    const t = await signToken(NEW, { path: PATH, expires: NOW });
    expect(reason(await verifyToken([NEW], t, { path: PATH, now: NOW - 1 }))).toBe("ok");
    expect(reason(await verifyToken([NEW], t, { path: PATH, now: NOW - 0.5 }))).toBe("ok");
    expect(reason(await verifyToken([NEW], t, { path: PATH, now: NOW }))).toBe("expired");
    expect(reason(await verifyToken([NEW], t, { path: PATH, now: NOW + 3600 }))).toBe("expired");
    expect(reason(await verifyToken([NEW], t, { path: PATH, now: Number.NaN }))).toBe("expired");
  });

  it("checks the signature before expiry and client", async () => {
    const t = await signToken(NEW, { path: PATH, expires: NOW - 10, client: V6 });
    const wrongKey = await verifyToken([{ ...OTHER, id: "k2" }], t, { path: PATH, now: NOW, client: "192.0.2.1" });
    expect(reason(wrongKey)).toBe("bad-signature");
    expect(reason(await verifyToken([NEW], t, { path: PATH, now: NOW, client: "192.0.2.1" }))).toBe("expired");
  });

  it("refuses the wrong client", async () => {
    const t = await signToken(NEW, { path: PATH, expires: NOW + 60, client: V6 });
    expect(reason(await verifyToken([NEW], t, { path: PATH, now: NOW, client: "2001:db8:1:3::/64" }))).toBe(
      "wrong-client",
    );
    expect(reason(await verifyToken([NEW], t, { path: PATH, now: NOW }))).toBe("wrong-client");
    const r = await verifyToken([NEW], t, { path: PATH, now: NOW, client: "192.0.2.1" });
    expect(r).toMatchObject({ ok: false, reason: "wrong-client" });
    if (!r.ok) expect(r.detail).toContain("192.0.2.1");
  });

  it("rotates keys: sign with the first, accept any listed", async () => {
    const fromOld = await signToken(OLD, { path: PATH, expires: NOW + 60 });
    expect(await verifyToken([NEW, OLD], fromOld, { path: PATH, now: NOW })).toEqual({ ok: true, keyId: "k1" });
    const fromNew = await signToken(NEW, { path: PATH, expires: NOW + 60 });
    expect(await verifyToken([NEW, OLD], fromNew, { path: PATH, now: NOW })).toEqual({ ok: true, keyId: "k2" });
    // Once the old key is retired, its tokens stop working.
    expect(reason(await verifyToken([NEW], fromOld, { path: PATH, now: NOW }))).toBe("unknown-key");
  });

  it("ignores unusable keys instead of throwing", async () => {
    const t = await signToken(NEW, { path: PATH, expires: NOW + 60 });
    expect(reason(await verifyToken([{ id: "k2", secret: "" }], t, { path: PATH, now: NOW }))).toBe("unknown-key");
    expect(reason(await verifyToken([], t, { path: PATH, now: NOW }))).toBe("unknown-key");
  });

  it("reports missing and malformed tokens", async () => {
    const good = await signToken(NEW, { path: PATH, expires: NOW + 60, client: V6 });
    const at = { path: PATH, now: NOW, client: V6 };
    expect(reason(await verifyToken([NEW], null, at))).toBe("missing");
    expect(reason(await verifyToken([NEW], "", at))).toBe("missing");
    const mac = good.split(".")[4] ?? "";
    const malformed = [
      "x",
      "a.b.c",
      `${good}.`,
      `.${good}`,
      good.replace(/\./g, ":"),
      setField(good, 0, ""),
      setField(good, 0, "k".repeat(17)),
      setField(good, 0, "k+1"),
      setField(good, 1, ""),
      setField(good, 1, "0" + String(NOW + 60)),
      setField(good, 1, "+" + String(NOW + 60)),
      setField(good, 1, "1e9"),
      setField(good, 1, "1".repeat(16)),
      setField(good, 2, b64(V6) + "="),
      setField(good, 2, "A"),
      setField(good, 2, "AB"), // non-zero trailing bits: not canonical
      setField(good, 2, b64("a\nb")),
      setField(good, 2, "_-8"), // not UTF-8
      setField(good, 2, b64("x".repeat(97))),
      setField(good, 3, ""),
      setField(good, 3, "P"),
      setField(good, 3, "pq"),
      setField(good, 4, mac.slice(1)),
      setField(good, 4, mac + "A"),
      setField(good, 4, mac + "="),
      setField(good, 4, mac.slice(0, 42) + "B"), // 43rd char with non-zero unused bits
      setField(good, 4, mac.replace(/.$/, "+")),
      // A version 1 token (no scope field).
      good.split(".").filter((_, i) => i !== 3).join("."),
      good + "x".repeat(300),
      ` ${good}`,
    ];
    for (const t of malformed) expect(reason(await verifyToken([NEW], t, at)), t).toBe("malformed");
    // A request path the signer could never have signed.
    expect(reason(await verifyToken([NEW], good, { ...at, path: "/a\nb" }))).toBe("malformed");
  });

  it("never throws and never accepts arbitrary strings", async () => {
    const good = await signToken(NEW, { path: PATH, expires: NOW + 60 });
    const [id, exp] = good.split(".");
    const tokenish = fc
      .tuple(fc.constantFrom(id ?? "", "k1", "k9"), fc.constantFrom(exp ?? "", "0", "99"), fc.string(), fc.constantFrom("p", "q", "x"), fc.string())
      .map(([a, b, c, d, e]) => `${a}.${b}.${c}.${d}.${e}`);
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string(), fc.string({ unit: "binary" }), tokenish), async (t) => {
        const r = await verifyToken([NEW, OLD], t, { path: PATH, now: NOW });
        expect(r.ok).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it("refuses to sign what no token can carry", async () => {
    await expect(signToken({ id: "k 1", secret: NEW.secret }, { path: PATH, expires: NOW })).rejects.toThrow(TypeError);
    await expect(signToken({ id: "k1", secret: "short" }, { path: PATH, expires: NOW })).rejects.toThrow(TypeError);
    await expect(signToken(NEW, { path: PATH, expires: -1 })).rejects.toThrow(TypeError);
    await expect(signToken(NEW, { path: PATH, expires: 1.5 })).rejects.toThrow(TypeError);
    await expect(signToken(NEW, { path: PATH, expires: 1e16 })).rejects.toThrow(TypeError);
    await expect(signToken(NEW, { path: "/a\nb", expires: NOW })).rejects.toThrow(TypeError);
    await expect(signToken(NEW, { path: "", expires: NOW })).rejects.toThrow(TypeError);
    await expect(signToken(NEW, { path: PATH, expires: NOW, client: "a\n" })).rejects.toThrow(TypeError);
    // The error never carries the secret.
    await expect(signToken({ id: "k1", secret: "shortsecret" }, { path: PATH, expires: NOW })).rejects.not.toThrow(
      /shortsecret/,
    );
  });
});

describe("base64url", () => {
  it("round-trips any bytes and has one spelling per value", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const text = encodeBase64url(bytes);
        expect(text).toMatch(/^[A-Za-z0-9_-]*$/);
        expect(decodeBase64url(text)).toEqual(bytes);
      }),
    );
    expect(decodeBase64url("AB")).toBeUndefined();
    expect(decodeBase64url("AA")).toEqual(Uint8Array.of(0));
    expect(decodeBase64url("AA==")).toBeUndefined();
    expect(decodeBase64url("A")).toBeUndefined();
  });
});

describe("parseSigningKeys", () => {
  const s = "0123456789abcdef"; // 16 bytes

  it("parses ids and secrets, first key first", () => {
    expect(parseSigningKeys(`k2:${s}x, k1 : ${s}:y:z `)).toEqual({
      keys: [
        { id: "k2", secret: `${s}x` },
        { id: "k1", secret: `${s}:y:z` },
      ],
      errors: [],
    });
    expect(parseSigningKeys("")).toEqual({ keys: [], errors: [] });
    expect(parseSigningKeys("  \n")).toEqual({ keys: [], errors: [] });
  });

  it("names each bad entry without quoting its secret", () => {
    const { keys, errors } = parseSigningKeys(
      `good:${s}, ,bareSECRETwithoutid, bad id:${s}SECRET1, short:tinySECRET, good:${s}SECRET2, ctl:${s}\u0001SECRET3,${"x".repeat(17)}:${s}`,
    );
    expect(keys).toEqual([{ id: "good", secret: s }]);
    expect(errors).toEqual([
      "signing key entry 2: empty",
      'signing key entry 3: expected "<id>:<secret>"',
      "signing key entry 4: key id must match [A-Za-z0-9_-]{1,16}",
      'signing key entry 5 (key "short"): secret must be at least 16 bytes',
      'signing key entry 6 (key "good"): duplicate key id',
      'signing key entry 7 (key "ctl"): secret has a control character',
      "signing key entry 8: key id must match [A-Za-z0-9_-]{1,16}",
    ]);
    expect(errors.join("\n")).not.toMatch(/SECRET|0123456789abcdef/);
  });

  it("counts secret length in UTF-8 bytes", () => {
    expect(parseSigningKeys("k:ééééééé").errors).toHaveLength(1); // 14 bytes
    expect(parseSigningKeys("k:éééééééé").keys).toHaveLength(1); // 16 bytes
  });
});

describe("version 2: query scope, lifetime and binding (issue #11 M5, Tokens)", () => {
  const at = { path: PATH, now: NOW };

  it("signs the canonical query when it is keyed: a token for ?v=1 is no token for ?v=2", async () => {
    const t = await signToken(NEW, { path: PATH, expires: NOW + 60, query: "v=1" });
    expect(t.split(".")[3]).toBe("q");
    const keyed = { ...at, queryKeyed: true };
    expect(reason(await verifyToken([NEW], t, { ...keyed, query: "v=1" }))).toBe("ok");
    expect(reason(await verifyToken([NEW], t, { ...keyed, query: "v=2" }))).toBe("bad-signature");
    expect(reason(await verifyToken([NEW], t, { ...keyed, query: "" }))).toBe("bad-signature");
    expect(reason(await verifyToken([NEW], t, { ...keyed, query: "v=1&w=2" }))).toBe("bad-signature");
    // A path-only token at a node that keys on the query buys nothing there.
    const pathOnly = await signToken(NEW, { path: PATH, expires: NOW + 60 });
    expect(reason(await verifyToken([NEW], pathOnly, { ...keyed, query: "v=2" }))).toBe("wrong-scope");
    expect(reason(await verifyToken([NEW], pathOnly, { ...at, query: "v=2" }))).toBe("ok");
    // Query and path cannot trade bytes through the separator.
    const split = await signToken(NEW, { path: "/a", expires: NOW + 60, query: "b" });
    expect(reason(await verifyToken([NEW], split, { path: "/a\nb", now: NOW, query: "", queryKeyed: true }))).toBe("malformed");
  });

  it("refuses a token that lives longer than the verifier allows (a 10^14 s token)", async () => {
    const far = await signToken(NEW, { path: PATH, expires: NOW + 1e14 });
    expect(reason(await verifyToken([NEW], far, at))).toBe("ok");
    expect(reason(await verifyToken([NEW], far, { ...at, maxLifetime: 3600 }))).toBe("too-long");
    const hour = await signToken(NEW, { path: PATH, expires: NOW + 3600 });
    expect(reason(await verifyToken([NEW], hour, { ...at, maxLifetime: 3600 }))).toBe("ok");
    expect(reason(await verifyToken([NEW], hour, { ...at, maxLifetime: 3599 }))).toBe("too-long");
  });

  it("refuses unbound tokens when binding is required", async () => {
    const unbound = await signToken(NEW, { path: PATH, expires: NOW + 60 });
    expect(reason(await verifyToken([NEW], unbound, { ...at, client: V6, requireClient: true }))).toBe("unbound");
    const bound = await signToken(NEW, { path: PATH, expires: NOW + 60, client: V6 });
    expect(reason(await verifyToken([NEW], bound, { ...at, client: V6, requireClient: true }))).toBe("ok");
  });

  it("never throws: any string, at any expectation, is a typed failure", async () => {
    const reasons = new Set(["missing", "malformed", "unknown-key", "bad-signature", "wrong-scope", "too-long", "unbound", "expired", "wrong-client"]);
    const good = await signToken(NEW, { path: PATH, expires: NOW + 60, query: "v=1" });
    const [id, exp, client, , mac] = good.split(".");
    // Near-misses of a real token (each field replaced by anything) and arbitrary strings.
    const field = (real: string) => fc.oneof(fc.constant(real), fc.string(), fc.string({ unit: "binary" }));
    const nearMiss = fc
      .tuple(field(id!), field(exp!), field(client!), fc.oneof(fc.constantFrom("p", "q"), fc.string()), field(mac!))
      .map((f) => f.join("."));
    const token = fc.oneof(fc.string(), fc.string({ unit: "binary", maxLength: 400 }), nearMiss);
    const expectation = fc.record({
      path: fc.oneof(fc.constant(PATH), fc.string({ unit: "binary" })),
      query: fc.oneof(fc.constant("v=1"), fc.string({ unit: "binary" })),
      now: fc.oneof(fc.constant(NOW), fc.double()),
      queryKeyed: fc.boolean(),
      requireClient: fc.boolean(),
      maxLifetime: fc.oneof(fc.nat(), fc.double()),
    });
    await fc.assert(
      fc.asyncProperty(token, expectation, async (t, e) => {
        const r = await verifyToken([NEW, OLD], t, e);
        if (r.ok) expect(t).toBe(good); // only the real token can pass
        else expect(reasons.has(r.reason)).toBe(true);
      }),
      { numRuns: 400 },
    );
  });
});

describe("partitionTokenQuery (issue #11 M1)", () => {
  it("takes every token member out, whatever its spelling, and keeps the rest canonical", () => {
    expect(partitionTokenQuery(`x=%2f&flag&y=a+b&${TOKEN_PARAM}=k1.1.AA.p.mac`)).toEqual({ query: "x=%2F&flag&y=a+b", tokens: ["k1.1.AA.p.mac"] });
    expect(partitionTokenQuery(`${TOKEN_PARAM}=%&v=1&offload%5Ftoken=two&${TOKEN_PARAM}`)).toEqual({ query: "v=1", tokens: ["%25", "two", ""] });
    expect(partitionTokenQuery("")).toEqual({ query: "", tokens: [] });
    // Look-alikes are ordinary members.
    expect(partitionTokenQuery(`x${TOKEN_PARAM}=1&${TOKEN_PARAM}x=2`)).toEqual({ query: `x${TOKEN_PARAM}=1&${TOKEN_PARAM}x=2`, tokens: [] });
  });

  it("partitions any query: never throws, the kept part is canonical and token-free, appending one token round-trips", () => {
    const member = fc.oneof(
      fc.string({ unit: "binary", maxLength: 12 }),
      fc.constantFrom(`${TOKEN_PARAM}=`, `${TOKEN_PARAM}`, "offload%5Ftoken=", "%", "%zz", "%41", "'", "a=b"),
    );
    fc.assert(
      fc.property(fc.array(member, { maxLength: 8 }), fc.stringMatching(/^[A-Za-z0-9_.-]{1,40}$/), (members, token) => {
        const raw = members.join("&");
        const { query, tokens } = partitionTokenQuery(raw);
        expect(canonicalQuery(query)).toBe(query);
        expect(partitionTokenQuery(query)).toEqual({ query, tokens: [] });
        expect(tokens.length).toBe(canonicalQuery(raw).split("&").filter((m) => m.split("=")[0] === TOKEN_PARAM).length);
        expect(partitionTokenQuery(withTokenMember(query, token))).toEqual({ query, tokens: [token] });
      }),
      { numRuns: 500 },
    );
  });
});
