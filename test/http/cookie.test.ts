import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { cookieValue } from "../../src/http/cookie";

// RFC 6265 §4.1.1 cookie-octet and §4.1.1 token (cookie-name): what a well-behaved server
// sets. "%" is left out of the values: Hono's parser percent-decodes (tested apart below).
const OCTETS = [..."!#$&'()*+-./0123456789:<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~"];
const TOKEN = [..."!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"];
const name = fc.string({ unit: fc.constantFrom(...TOKEN), minLength: 1, maxLength: 12 });
const value = fc.string({ unit: fc.constantFrom(...OCTETS), maxLength: 40 });

describe("cookieValue (RFC 6265 §5.4, through hono/utils/cookie parse)", () => {
  it("finds the named cookie among others, unquoted; first wins; no partial-name matches", () => {
    expect(cookieValue("a=1; athena=v1~x; b=2", "athena")).toBe("v1~x");
    expect(cookieValue('athena="v1~x"', "athena")).toBe("v1~x");
    expect(cookieValue("athena=first; athena=second", "athena")).toBe("first");
    expect(cookieValue("xathena=1; athenax=2", "athena")).toBeNull();
    expect(cookieValue("=athena; athena", "athena")).toBeNull();
    expect(cookieValue(null, "athena")).toBeNull();
    expect(cookieValue("", "athena")).toBeNull();
    expect(cookieValue("sess=abc", "sess")).toBe("abc");
    expect(cookieValue('sess="', "sess")).toBe("");
    expect(cookieValue('sess=""', "sess")).toBe("");
    expect(cookieValue(" sess = abc ;x=1", "sess")).toBe("abc");
    expect(cookieValue("a=1", "__proto__")).toBeNull();
    expect(cookieValue("__proto__=x", "__proto__")).toBe("x");
  });

  it("skips a pair whose value is no cookie-octet string and takes the next of that name; decodes percent-escapes", () => {
    expect(cookieValue("athena=a\\b; athena=good", "athena")).toBe("good");
    expect(cookieValue("athena=a\\b", "athena")).toBeNull();
    expect(cookieValue("athena=%41%7e; athena=second", "athena")).toBe("A~");
    expect(cookieValue("athena=%zz", "athena")).toBe("%zz");
  });

  it("never throws: any header and any name give a string or null", () => {
    fc.assert(
      fc.property(fc.option(fc.string({ unit: "binary", maxLength: 300 }), { nil: null }), fc.string({ unit: "binary", maxLength: 20 }), (header, n) => {
        const v = cookieValue(header, n);
        expect(v === null || typeof v === "string").toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it("reads back every cookie a server set, as a browser joins them (first of a name wins)", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(name, value, fc.boolean()), { minLength: 1, maxLength: 8 }), fc.nat(), (pairs, pick) => {
        const header = pairs.map(([n, v, quote]) => `${n}=${quote ? `"${v}"` : v}`).join("; ");
        const wanted = pairs[pick % pairs.length]![0];
        const first = pairs.find(([n]) => n === wanted)!;
        expect(cookieValue(header, wanted)).toBe(first[1]);
      }),
      { numRuns: 1000 },
    );
  });
});
