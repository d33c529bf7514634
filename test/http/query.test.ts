import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { canonicalQuery } from "../../src/http/query";

describe("canonicalQuery (RFC 3986 §6.2.2)", () => {
  it("normalises escapes, drops empty members and encodes what a URI may not hold", () => {
    expect(canonicalQuery("a=%41&b=%2f&&c=%7e%7E")).toBe("a=A&b=%2F&c=~~");
    expect(canonicalQuery("a=<x>&b=\"y\"&c='z'&d=é")).toBe("a=%3Cx%3E&b=%22y%22&c=%27z%27&d=%C3%A9");
    expect(canonicalQuery("%&%z&%zz&100%")).toBe("%25&%25z&%25zz&100%25");
    expect(canonicalQuery("q=a+b&r=/x?y:z@w!$()*,;=")).toBe("q=a+b&r=/x?y:z@w!$()*,;=");
    expect(canonicalQuery("")).toBe("");
  });

  it("is total, idempotent, ASCII without controls, and stable under WHATWG query re-encoding", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 60 }), (raw) => {
        const c = canonicalQuery(raw);
        expect(c).toMatch(/^[A-Za-z0-9\-._~!$&()*+,;=:@/?%]*$/);
        expect(canonicalQuery(c)).toBe(c);
        // What a browser sends after following a Location that carries `c`.
        const reparsed = new URL(`http://h/p?${c}`).search.slice(1);
        expect(canonicalQuery(reparsed)).toBe(c);
      }),
      { numRuns: 300 },
    );
  });

  it("returns a canonical query unchanged, and never returns a non-canonical one (fast path)", () => {
    // Query-like text: escapes in both cases, of unreserved and reserved bytes, empty members.
    const piece = fc.constantFrom("a", "Z", "0", "-", ".", "_", "~", "=", "&", "+", "/", "?", "'", " ", "é", "%", "%4", "%41", "%4a", "%4A", "%2f", "%2F", "%5F", "%5f", "%7E", "%7e", "%7F", "%25", "%C3%A9", "%c3%a9", "%zz");
    const unreservedEscape = /%(?:2[DE]|3[0-9]|4[1-9A-F]|5[0-9AF]|6[1-9A-F]|7[0-9AE])/i;
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }).map((p) => p.join("")), (raw) => {
        const c = canonicalQuery(raw);
        expect(c).not.toMatch(unreservedEscape);
        expect(c).not.toMatch(/%(?![0-9A-F]{2})/);
        expect(c).not.toMatch(/^&|&&|&$/);
        expect(c).toMatch(/^[A-Za-z0-9\-._~!$&()*+,;=:@/?%]*$/);
        expect(canonicalQuery(c)).toBe(c);
      }),
      { numRuns: 3000 },
    );
    const long = "utm_source=newsletter&utm_campaign=spring%20sale&ref=%2Fdownloads%2Fbig.iso&x=" + "a".repeat(5000);
    expect(canonicalQuery(long)).toBe(long);
  });
});
