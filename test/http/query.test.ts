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
});
