import { describe, it, expect } from "vitest";
import fc from "fast-check";
import {
  etagMatches,
  evaluatePreconditions,
  formatHttpDate,
  ifRangeAllows,
  parseHttpDate,
  type Validators,
} from "../../src/http/conditional";

const LM = "Sun, 10 Mar 2024 12:34:56 GMT";
const LM_MS = Date.UTC(2024, 2, 10, 12, 34, 56);
const BEFORE = "Sun, 10 Mar 2024 12:34:55 GMT";
const AFTER = "Sun, 10 Mar 2024 12:34:57 GMT";
const V: Validators = { etag: '"65edaa50-3e8"', lastModified: LM };

const pre = (headers: Record<string, string>, method = "GET", v: Validators = V) =>
  evaluatePreconditions(method, new Headers(headers), v);

describe("parseHttpDate / formatHttpDate (RFC 9110 §5.6.7)", () => {
  it("parses the three formats", () => {
    expect(parseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT")).toBe(Date.UTC(1994, 10, 6, 8, 49, 37));
    expect(parseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT")).toBe(Date.UTC(1994, 10, 6, 8, 49, 37));
    expect(parseHttpDate("Sun Nov  6 08:49:37 1994")).toBe(Date.UTC(1994, 10, 6, 8, 49, 37));
    expect(parseHttpDate("Sun Nov 16 08:49:37 1994")).toBe(Date.UTC(1994, 10, 16, 8, 49, 37));
  });

  it("reads two-digit years as at most 50 years ahead", () => {
    const now = Date.UTC(2026, 0, 1);
    expect(parseHttpDate("Monday, 01-Jan-76 00:00:00 GMT", now)).toBe(Date.UTC(2076, 0, 1));
    expect(parseHttpDate("Monday, 01-Jan-77 00:00:00 GMT", now)).toBe(Date.UTC(1977, 0, 1));
    expect(parseHttpDate("Monday, 01-Jan-24 00:00:00 GMT", now)).toBe(Date.UTC(2024, 0, 1));
  });

  it("rejects malformed dates", () => {
    for (const s of [
      "", "not a date", "Sun, 6 Nov 1994 08:49:37 GMT", "Sun, 06 nov 1994 08:49:37 GMT",
      "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 31 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 24:00:00 GMT",
      "Sun, 06 Nov 1994 08:60:00 GMT", "Sun, 06 Nov 1994 08:49:60 GMT", "Sun, 29 Feb 2023 00:00:00 GMT",
      "Sun, 06 Nov 1994 08:49:37 GMT, Sun, 06 Nov 1994 08:49:37 GMT", "1994-11-06T08:49:37Z",
    ]) {
      expect(parseHttpDate(s), s).toBeUndefined();
    }
    expect(parseHttpDate("Thu, 29 Feb 2024 00:00:00 GMT")).toBe(Date.UTC(2024, 1, 29));
  });

  it("formats IMF-fixdate", () => {
    expect(formatHttpDate(LM_MS)).toBe(LM);
    expect(formatHttpDate(LM_MS + 999)).toBe(LM);
    expect(formatHttpDate(0)).toBe("Thu, 01 Jan 1970 00:00:00 GMT");
    expect(formatHttpDate(Number.NaN)).toBe("Thu, 01 Jan 1970 00:00:00 GMT");
  });

  it("format then parse round-trips whole seconds; never throws", () => {
    const max = Date.UTC(9999, 11, 31, 23, 59, 59);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Math.floor(max / 1000) }), (sec) => {
        expect(parseHttpDate(formatHttpDate(sec * 1000))).toBe(sec * 1000);
      }),
    );
    fc.assert(fc.property(fc.string(), (s) => { parseHttpDate(s); }));
  });
});

describe("etagMatches (RFC 9110 §8.8.3.2)", () => {
  it("weak and strong comparison", () => {
    expect(etagMatches('"a"', '"a"', false)).toBe(true);
    expect(etagMatches('W/"a"', '"a"', false)).toBe(false);
    expect(etagMatches('"a"', 'W/"a"', false)).toBe(false);
    expect(etagMatches('W/"a"', 'W/"a"', false)).toBe(false);
    expect(etagMatches('W/"a"', '"a"', true)).toBe(true);
    expect(etagMatches('"a"', 'W/"a"', true)).toBe(true);
    expect(etagMatches('"b"', '"a"', true)).toBe(false);
  });

  it("handles *, lists, whitespace and quoted commas", () => {
    expect(etagMatches("*", '"a"', false)).toBe(true);
    expect(etagMatches(' "x" ,  "a" ', '"a"', false)).toBe(true);
    expect(etagMatches('"x",,W/"a"', '"a"', true)).toBe(true);
    expect(etagMatches('"a,b", "c"', '"a,b"', false)).toBe(true);
    expect(etagMatches('"a,b", "c"', '"b"', false)).toBe(false);
    expect(etagMatches('"x", *', '"a"', false)).toBe(false);
    expect(etagMatches("a", '"a"', true)).toBe(false);
    expect(etagMatches("abc, def", "def", true)).toBe(true);
    expect(etagMatches('"a"', "", true)).toBe(false);
  });
});

describe("evaluatePreconditions (RFC 9110 §13.2.2)", () => {
  it("If-Match: strong comparison, * always true for a stored representation", () => {
    expect(pre({ "If-Match": V.etag ?? "" })).toBe("proceed");
    expect(pre({ "If-Match": "*" })).toBe("proceed");
    expect(pre({ "If-Match": "*" }, "GET", {})).toBe("proceed");
    expect(pre({ "If-Match": '"nope"' })).toBe("precondition-failed");
    expect(pre({ "If-Match": `W/${V.etag}` })).toBe("precondition-failed");
    expect(pre({ "If-Match": '"x"' }, "GET", { lastModified: LM })).toBe("precondition-failed");
  });

  it("If-Unmodified-Since: only without If-Match, invalid dates ignored", () => {
    expect(pre({ "If-Unmodified-Since": LM })).toBe("proceed");
    expect(pre({ "If-Unmodified-Since": AFTER })).toBe("proceed");
    expect(pre({ "If-Unmodified-Since": BEFORE })).toBe("precondition-failed");
    expect(pre({ "If-Unmodified-Since": "garbage" })).toBe("proceed");
    expect(pre({ "If-Unmodified-Since": BEFORE, "If-Match": V.etag ?? "" })).toBe("proceed");
    expect(pre({ "If-Unmodified-Since": BEFORE }, "GET", { etag: V.etag })).toBe("proceed");
  });

  it("If-None-Match: weak comparison; 304 for GET/HEAD, 412 otherwise", () => {
    expect(pre({ "If-None-Match": V.etag ?? "" })).toBe("not-modified");
    expect(pre({ "If-None-Match": `W/${V.etag}` }, "HEAD")).toBe("not-modified");
    expect(pre({ "If-None-Match": "*" })).toBe("not-modified");
    expect(pre({ "If-None-Match": '"other"' })).toBe("proceed");
    expect(pre({ "If-None-Match": V.etag ?? "" }, "POST")).toBe("precondition-failed");
    expect(pre({ "If-None-Match": '"a"' }, "GET", { lastModified: LM })).toBe("proceed");
  });

  it("If-Modified-Since: Last-Modified <= date (nginx `if_modified_since before`)", () => {
    expect(pre({ "If-Modified-Since": LM })).toBe("not-modified");
    expect(pre({ "If-Modified-Since": AFTER })).toBe("not-modified");
    expect(pre({ "If-Modified-Since": BEFORE })).toBe("proceed");
    expect(pre({ "If-Modified-Since": "Sunday, 10-Mar-24 12:34:56 GMT" })).toBe("not-modified");
    expect(pre({ "If-Modified-Since": "Sun Mar 10 12:34:56 2024" })).toBe("not-modified");
    expect(pre({ "If-Modified-Since": "garbage" })).toBe("proceed");
    expect(pre({ "If-Modified-Since": LM }, "POST")).toBe("proceed");
    expect(pre({ "If-Modified-Since": LM }, "GET", { etag: V.etag })).toBe("proceed");
  });

  it("precedence", () => {
    // INM present: IMS ignored (nginx would answer 200 here).
    expect(pre({ "If-None-Match": V.etag ?? "", "If-Modified-Since": BEFORE })).toBe("not-modified");
    expect(pre({ "If-None-Match": '"x"', "If-Modified-Since": LM })).toBe("proceed");
    expect(pre({ "If-Match": '"x"', "If-None-Match": V.etag ?? "" })).toBe("precondition-failed");
    expect(pre({ "If-Unmodified-Since": BEFORE, "If-None-Match": V.etag ?? "" })).toBe("precondition-failed");
    expect(pre({ "If-Match": V.etag ?? "", "If-Modified-Since": LM })).toBe("not-modified");
    expect(pre({})).toBe("proceed");
  });
});

describe("ifRangeAllows (RFC 9110 §13.1.5)", () => {
  const allows = (value: string | undefined, v: Validators = V) =>
    ifRangeAllows(new Headers(value === undefined ? {} : { "If-Range": value }), v);

  it("absent header allows the range", () => expect(allows(undefined)).toBe(true));

  it("entity-tag: strong match only", () => {
    expect(allows(V.etag ?? "")).toBe(true);
    expect(allows('"other"')).toBe(false);
    expect(allows(`W/${V.etag}`)).toBe(false);
    expect(allows('W/"w"', { etag: 'W/"w"' })).toBe(false);
    expect(allows(V.etag ?? "", { lastModified: LM })).toBe(false);
    expect(allows('"unterminated')).toBe(false);
  });

  it("date: exact equality with Last-Modified, any of the three formats", () => {
    expect(allows(LM)).toBe(true);
    expect(allows("Sunday, 10-Mar-24 12:34:56 GMT")).toBe(true);
    expect(allows("Sun Mar 10 12:34:56 2024")).toBe(true);
    expect(allows(AFTER)).toBe(false);
    expect(allows(BEFORE)).toBe(false);
    expect(allows("garbage")).toBe(false);
    expect(allows(LM, { etag: V.etag })).toBe(false);
  });
});
