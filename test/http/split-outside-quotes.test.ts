import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { splitOutsideQuotes } from "../../src/http/split-outside-quotes";

describe("splitOutsideQuotes (RFC 9110 §5.6.4, RFC 8941 §3.3.3)", () => {
  it("splits list members and parameters, not inside quoted strings", () => {
    expect(splitOutsideQuotes("a, b;q=0.5, c", ",")).toEqual(["a", " b;q=0.5", " c"]);
    expect(splitOutsideQuotes('text/plain;x="a,b";q=1', ";")).toEqual(["text/plain", 'x="a,b"', "q=1"]);
    expect(splitOutsideQuotes('node; detail="x, y"; fwd=miss', ",")).toEqual(['node; detail="x, y"; fwd=miss']);
  });

  it("honours backslash escapes inside quotes only", () => {
    expect(splitOutsideQuotes('a="x\\",y", b', ",")).toEqual(['a="x\\",y"', " b"]);
    expect(splitOutsideQuotes("a\\,b", ",")).toEqual(["a\\", "b"]);
    expect(splitOutsideQuotes('a="\\', ",")).toEqual(['a="\\']);
  });

  it("keeps empty members and an unterminated quote to the end", () => {
    expect(splitOutsideQuotes("", ",")).toEqual([""]);
    expect(splitOutsideQuotes(",,", ",")).toEqual(["", "", ""]);
    expect(splitOutsideQuotes('a="b, c', ",")).toEqual(['a="b, c']);
  });

  it("loses no character: joining the pieces with the separator gives the input back", () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(..."ab ,;\"\\="), maxLength: 60 }), fc.constantFrom(",", ";"), (text, sep) => {
        expect(splitOutsideQuotes(text, sep).join(sep)).toBe(text);
      }),
      { numRuns: 1000 },
    );
  });
});
