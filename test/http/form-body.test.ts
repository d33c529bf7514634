import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { boundaryProblem, multipartFramingProblem, parseJsonObject, parseMediaType, parseUrlencoded } from "../../src/http/form-body";

describe("form bodies: strict parsers that never throw (issue #11 L6)", () => {
  it("parseMediaType reads type, subtype and parameters (RFC 9110 §8.3.1, §5.6.6)", () => {
    const mt = parseMediaType('Multipart/Form-Data; Boundary="a b\\"c"; charset=utf-8');
    expect(mt).toEqual({ ok: true, value: { type: "multipart/form-data", params: new Map([["boundary", 'a b"c'], ["charset", "utf-8"]]) } });
    for (const bad of [null, "", "text", "text/", "/plain", "text/plain;", "text/plain; a", "text/plain; a=b c", 'text/plain; a="x', "text/plain; a=1; A=2"]) {
      expect(parseMediaType(bad).ok, String(bad)).toBe(false);
    }
  });

  it("parseUrlencoded refuses broken escapes and repeated fields; decodes + and %XX", () => {
    expect(parseUrlencoded("a=1+2&b=%C3%A9&c&&d=")).toEqual({ ok: true, value: new Map([["a", "1 2"], ["b", "é"], ["c", ""], ["d", ""]]) });
    expect(parseUrlencoded("a=%").ok).toBe(false);
    expect(parseUrlencoded("a=%E0%A4%A").ok).toBe(false);
    expect(parseUrlencoded("a=%FF").ok).toBe(false);
    expect(parseUrlencoded("a=1&a=2")).toEqual({ ok: false, reason: 'the form gives the field "a" twice' });
  });

  it("boundary and framing checks (RFC 2046 §5.1.1)", () => {
    expect(boundaryProblem(undefined)).toMatch(/needs a boundary/);
    expect(boundaryProblem("x".repeat(71))).toMatch(/1 to 70/);
    expect(boundaryProblem("ends in space ")).toMatch(/1 to 70/);
    expect(boundaryProblem("AaB03x")).toBeNull();
    expect(multipartFramingProblem("--b\r\n\r\nx\r\n--b--\r\n", "b")).toBeNull();
    expect(multipartFramingProblem("preamble\r\n--b\r\n\r\nx\r\n--b--", "b")).toBeNull();
    expect(multipartFramingProblem("--c\r\n\r\nx\r\n--c--\r\n", "b")).toMatch(/does not start/);
    expect(multipartFramingProblem("--b\r\n\r\nx", "b")).toMatch(/truncated/);
  });

  it("never throw: every parser gives a typed result for any input", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 200 }), fc.uint8Array({ maxLength: 200 }), (text, bytes) => {
        for (const r of [parseMediaType(text), parseUrlencoded(text), parseJsonObject(bytes), parseJsonObject(new TextEncoder().encode(text))]) {
          expect(typeof r.ok).toBe("boolean");
          if (!r.ok) expect(r.reason).toMatch(/^[^\n]+$/);
        }
        const b = boundaryProblem(text);
        expect(b === null || typeof b === "string").toBe(true);
        const f = multipartFramingProblem(text, "AaB03x");
        expect(f === null || typeof f === "string").toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});
