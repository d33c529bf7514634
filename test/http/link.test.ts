import { describe, it, expect } from "vitest";
import fc from "fast-check";
import {
  buildDuplicateLinks,
  formatLink,
  mirrorUrlProblem,
  uriReferenceProblem,
} from "../../src/http/link";

const dupValue = (...args: Parameters<typeof buildDuplicateLinks>) => buildDuplicateLinks(...args).value;

describe("formatLink (RFC 8288 §3)", () => {
  it("writes target, rel and parameters", () => {
    expect(formatLink({ target: "https://m.example/a.iso", rel: "duplicate" })).toEqual({
      ok: true,
      value: "<https://m.example/a.iso>; rel=duplicate",
    });
    const r = formatLink({
      target: "https://m.example/a.iso.meta4",
      rel: "describedby",
      params: [
        ["type", "application/metalink4+xml"],
        ["title", 'say "hi" \\ bye'],
        ["pref", true],
        ["pri", 3],
      ],
    });
    expect(r).toEqual({
      ok: true,
      value:
        '<https://m.example/a.iso.meta4>; rel=describedby; type="application/metalink4+xml"; title="say \\"hi\\" \\\\ bye"; pref; pri=3',
    });
    expect(formatLink({ target: "/rel/path", rel: "alternate duplicate" })).toEqual({
      ok: true,
      value: '</rel/path>; rel="alternate duplicate"',
    });
  });

  it("refuses targets that cannot sit between < and >", () => {
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
      expect(formatLink({ target, rel: "duplicate" }).ok, target).toBe(false);
    }
    expect(uriReferenceProblem("https://m.example/a>b")).toContain("U+003E");
  });

  it("refuses bad rel and parameters", () => {
    const t = "https://m.example/a";
    expect(formatLink({ target: t, rel: "Dup" }).ok).toBe(false);
    expect(formatLink({ target: t, rel: "" }).ok).toBe(false);
    expect(formatLink({ target: t, rel: "duplicate", params: [["rel", "x"]] }).ok).toBe(false);
    expect(formatLink({ target: t, rel: "duplicate", params: [["bad name", "x"]] }).ok).toBe(false);
    expect(formatLink({ target: t, rel: "duplicate", params: [["title", "a\nb"]] }).ok).toBe(false);
    expect(formatLink({ target: t, rel: "duplicate", params: [["title", "é"]] }).ok).toBe(false);
    expect(formatLink({ target: t, rel: "duplicate", params: [["pri", -1]] }).ok).toBe(false);
    expect(formatLink({ target: t, rel: "duplicate", params: [["pri", 1.5]] }).ok).toBe(false);
    expect(formatLink({ target: t, rel: "duplicate", params: [["pri", Number.NaN]] }).ok).toBe(false);
  });

  it("never lets a target break out of its brackets or the header", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), fc.string({ unit: "binary" }), (target, title) => {
        const r = formatLink({ target, rel: "duplicate", params: [["title", title]] });
        if (!r.ok) return;
        expect(r.value).not.toMatch(/[\u0000-\u001f\u007f-\uffff]/);
        expect(r.value.indexOf(">")).toBe(target.length + 1);
        expect(r.value.slice(1, target.length + 1)).not.toMatch(/[<>]/);
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
    expect(mirrorUrlProblem("https://")).toBeDefined();
    expect(mirrorUrlProblem("https://[::1/a")).toBe("not a valid URL");
  });
});

describe("duplicateLinks (RFC 6249 §3)", () => {
  it("orders by pri, includes geo and depth when known", () => {
    expect(
      dupValue([
        { url: "https://b.example/f.iso", priority: 2, geo: "DE", depth: 2 },
        { url: "https://a.example/f.iso", priority: 1 },
        { url: "ftp://c.example/f.iso", priority: 2, geo: "us" },
      ]),
    ).toBe(
      "<https://a.example/f.iso>; rel=duplicate; pri=1, " +
        "<https://b.example/f.iso>; rel=duplicate; pri=2; geo=de; depth=2, " +
        "<ftp://c.example/f.iso>; rel=duplicate; pri=2; geo=us",
    );
  });

  it("keeps the first `max` by priority and says what it left out", () => {
    const mirrors = Array.from({ length: 8 }, (_, i) => ({ url: `https://m${i}.example/f`, priority: 8 - i }));
    const r = buildDuplicateLinks(mirrors);
    expect(r.links).toHaveLength(5);
    expect(r.links[0]).toBe("<https://m7.example/f>; rel=duplicate; pri=1");
    expect(r.rejected.map((x) => x.url)).toEqual(["https://m2.example/f", "https://m1.example/f", "https://m0.example/f"]);
    expect(r.rejected[0]?.reason).toBe("beyond the first 5");
    expect(buildDuplicateLinks(mirrors, 2).links).toHaveLength(2);
    expect(dupValue(mirrors, 0)).toBe("");
    expect(dupValue(mirrors, -1)).toBe("");
    expect(dupValue(mirrors, Number.NaN)).toBe("");
    expect(dupValue([])).toBe("");
  });

  it("leaves out invalid mirrors with a reason", () => {
    const r = buildDuplicateLinks([
      { url: "https://ok.example/f", priority: 1 },
      { url: "https://ok.example/f", priority: 2 },
      { url: "https://m.example/<script>", priority: 1 },
      { url: "https://m.example/a", priority: 0 },
      { url: "https://m.example/b", priority: 1_000_000 },
      { url: "https://m.example/c", priority: 1.5 },
      { url: "https://m.example/d", priority: 1, geo: "deu" },
      { url: "https://m.example/e", priority: 1, depth: -1 },
      { url: "mailto:x@example.com", priority: 1 },
    ]);
    expect(r.value).toBe("<https://ok.example/f>; rel=duplicate; pri=1");
    expect(r.rejected.map((x) => x.reason)).toEqual([
      "listed twice",
      "character U+003C is not allowed in a URI (RFC 3986 §2)",
      "priority must be an integer 1..999999",
      "priority must be an integer 1..999999",
      "priority must be an integer 1..999999",
      "geo must be an ISO 3166-1 alpha-2 code",
      "depth must be a non-negative integer",
      "scheme mailto: is not http, https or ftp",
    ]);
    expect(dupValue([{ url: "https://m.example/ok", priority: 999999, depth: 0 }])).toBe(
      "<https://m.example/ok>; rel=duplicate; pri=999999; depth=0",
    );
  });

  it("produces a value a Headers object accepts as is", () => {
    const h = new Headers();
    const value = dupValue([
      { url: "https://a.example/x?y=1&z=%20", priority: 1, geo: "fr" },
      { url: "https://[2001:db8::1]/x", priority: 3 },
    ]);
    h.set("Link", value);
    expect(h.get("Link")).toBe(value);
  });
});
