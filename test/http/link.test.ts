import { describe, it, expect } from "vitest";
import fc from "fast-check";
import { mirrorUrlProblem, uriReferenceProblem } from "../../src/http/link";

describe("uriReferenceProblem (RFC 3986 §2, §4.1: what may sit between < and > in a Link)", () => {
  it("accepts URI references, refuses what cannot sit between < and >", () => {
    expect(uriReferenceProblem("https://m.example/a.iso?x=1&y=%20#f")).toBeUndefined();
    expect(uriReferenceProblem("/rel/path")).toBeUndefined();
    for (const target of [
      "https://m.example/a>b",
      "https://m.example/a<b",
      "https://m.example/a b",
      'https://m.example/a"b',
      "https://m.example/a\r\nSet-Cookie: x=1",
      "https://m.example/é",
      "https://m.example/a%zz",
      "https://m.example/a%2",
      "https://m.example/a\\b",
      "https://m.example/{a}",
      "",
    ]) {
      expect(uriReferenceProblem(target), target).toBeDefined();
    }
    expect(uriReferenceProblem("https://m.example/a>b")).toContain("U+003E");
    expect(uriReferenceProblem("https://m.example/a%2")).toContain("RFC 3986 §2.1");
  });

  it("never accepts a target that could break out of its brackets or the header", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (target) => {
        if (uriReferenceProblem(target) !== undefined) return;
        expect(target).not.toMatch(/[\u0000-\u0020<>"\u007f-\uffff]/);
        // A Headers object takes `<target>; rel=duplicate` as it is.
        const h = new Headers({ link: `<${target}>; rel=duplicate` });
        expect(h.get("link")).toBe(`<${target}>; rel=duplicate`);
      }),
      { numRuns: 500 },
    );
  });
});

describe("mirrorUrlProblem", () => {
  it("wants absolute http, https or ftp URLs", () => {
    expect(mirrorUrlProblem("https://m.example/a")).toBeUndefined();
    expect(mirrorUrlProblem("http://[2001:db8::1]:8080/a?x=1")).toBeUndefined();
    expect(mirrorUrlProblem("ftp://ftp.example/pub/a")).toBeUndefined();
    expect(mirrorUrlProblem("/relative")).toBe("not an absolute URI");
    expect(mirrorUrlProblem("javascript:alert(1)")).toContain("scheme");
    expect(mirrorUrlProblem("file:///etc/passwd")).toContain("scheme");
    expect(mirrorUrlProblem("mailto:x@example.com")).toBe("scheme mailto: is not http, https or ftp");
    expect(mirrorUrlProblem("https://m.example/<script>")).toBe("character U+003C is not allowed in a URI (RFC 3986 §2)");
    expect(mirrorUrlProblem("https://")).toBeDefined();
    expect(mirrorUrlProblem("https://[::1/a")).toBe("not a valid URL");
  });
});
