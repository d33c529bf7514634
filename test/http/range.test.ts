import { describe, it, expect } from "vitest";
import fc from "fast-check";
import {
  contentRange,
  decideRange,
  formatRange,
  unsatisfiedRange,
  type ByteRange,
  type RangeDecision,
} from "../../src/http/range";

const partial = (...pairs: Array<[number, number]>): RangeDecision => ({
  kind: "partial",
  ranges: pairs.map(([start, end]) => ({ start, end })),
});
const UNSAT: RangeDecision = { kind: "unsatisfiable" };

function kind(header: string | null, length: number, maxRanges?: number): string {
  const d = decideRange(header, length, maxRanges === undefined ? undefined : { maxRanges });
  return d.kind;
}

describe("decideRange: nginx behaviour (confirmed by scripts/nginx-oracle)", () => {
  it("ignores absent, short or non-bytes headers", () => {
    expect(kind(null, 1000)).toBe("full");
    expect(kind("", 1000)).toBe("full");
    expect(kind("bytes=", 1000)).toBe("full");
    expect(kind("items=0-1", 1000)).toBe("full");
    expect(kind("bytes 0-1", 1000)).toBe("full");
    expect(kind(" bytes=0-1", 1000)).toBe("full");
  });

  it("accepts the unit case-insensitively", () => {
    expect(decideRange("BYTES=0-1", 1000)).toEqual(partial([0, 1]));
    expect(decideRange("Bytes=0-1", 1000)).toEqual(partial([0, 1]));
  });

  it("serves single ranges, clamping the last byte", () => {
    expect(decideRange("bytes=0-0", 1000)).toEqual(partial([0, 0]));
    expect(decideRange("bytes=0-499", 1000)).toEqual(partial([0, 499]));
    expect(decideRange("bytes=500-", 1000)).toEqual(partial([500, 999]));
    expect(decideRange("bytes=999-5000", 1000)).toEqual(partial([999, 999]));
    expect(decideRange("bytes=0-", 1000)).toEqual(partial([0, 999]));
  });

  it("handles suffix ranges", () => {
    expect(decideRange("bytes=-1", 1000)).toEqual(partial([999, 999]));
    expect(decideRange("bytes=-500", 1000)).toEqual(partial([500, 999]));
    expect(decideRange("bytes=-1000", 1000)).toEqual(partial([0, 999]));
    expect(decideRange("bytes=-5000", 1000)).toEqual(partial([0, 999]));
    expect(decideRange("bytes=-0", 1000)).toEqual(UNSAT);
  });

  it("answers 416 to syntax errors instead of ignoring them", () => {
    for (const h of [
      "bytes=abc", "bytes=--1", "bytes=-", "bytes=1-2-3", "bytes=0-1,", "bytes=0-1,,2-3",
      "bytes=,0-1", "bytes=0-1;", "bytes=1--2", "bytes=- 5", "bytes=0-\t1", "bytes=0x1-2",
      "bytes=1.5-2", "bytes=+1-2",
    ]) {
      expect(decideRange(h, 1000), h).toEqual(UNSAT);
    }
  });

  it("skips empty or out-of-bounds specs, 416 when none is left", () => {
    expect(decideRange("bytes=5-3", 1000)).toEqual(UNSAT);
    expect(decideRange("bytes=1000-", 1000)).toEqual(UNSAT);
    expect(decideRange("bytes=1000-2000", 1000)).toEqual(UNSAT);
    expect(decideRange("bytes=5-3,0-1", 1000)).toEqual(partial([0, 1]));
    expect(decideRange("bytes=2000-3000,10-19", 1000)).toEqual(partial([10, 19]));
  });

  it("skips spaces (not tabs) around numbers and commas", () => {
    expect(decideRange("bytes= 0 - 1 , 5 - ", 1000)).toEqual(partial([0, 1], [5, 999]));
    expect(decideRange("bytes=  -5", 1000)).toEqual(partial([995, 999]));
  });

  it("keeps order, duplicates and overlaps; whole body when they add up past the length", () => {
    expect(decideRange("bytes=500-599,0-99", 1000)).toEqual(partial([500, 599], [0, 99]));
    expect(decideRange("bytes=0-9,0-9", 1000)).toEqual(partial([0, 9], [0, 9]));
    expect(kind("bytes=0-599,400-999", 1000)).toBe("full");
    expect(decideRange("bytes=0-499,500-999", 1000)).toEqual(partial([0, 499], [500, 999]));
    expect(kind("bytes=0-0,0-0", 1)).toBe("full");
  });

  it("treats a zero-length body like nginx: 200 for specs starting at 0, else 416", () => {
    expect(kind("bytes=0-0", 0)).toBe("full");
    expect(kind("bytes=0-", 0)).toBe("full");
    expect(kind("bytes=-1", 0)).toBe("full");
    expect(kind("bytes=-0", 0)).toBe("full");
    expect(kind("bytes=1-2", 0)).toBe("unsatisfiable");
    expect(kind("bytes=1-", 0)).toBe("unsatisfiable");
  });

  it("handles a one-byte body", () => {
    expect(decideRange("bytes=0-0", 1)).toEqual(partial([0, 0]));
    expect(decideRange("bytes=-1", 1)).toEqual(partial([0, 0]));
    expect(decideRange("bytes=1-", 1)).toEqual(UNSAT);
    expect(decideRange("bytes=-0", 1)).toEqual(UNSAT);
  });

  it("416 on numbers above 2^63-1, accepts up to it", () => {
    expect(decideRange("bytes=9223372036854775808-", 1000)).toEqual(UNSAT);
    expect(decideRange("bytes=0-9223372036854775808", 1000)).toEqual(UNSAT);
    expect(decideRange("bytes=-99999999999999999999", 1000)).toEqual(UNSAT);
    expect(decideRange("bytes=0-9223372036854775807", 1000)).toEqual(partial([0, 999]));
    expect(decideRange("bytes=-9223372036854775807", 1000)).toEqual(partial([0, 999]));
    expect(decideRange("bytes=9223372036854775807-", 1000)).toEqual(UNSAT);
    expect(decideRange("bytes=000000000000000000000000001-2", 1000)).toEqual(partial([1, 2]));
  });

  it("applies max_ranges as nginx does", () => {
    expect(kind("bytes=0-1", 1000, 0)).toBe("full");
    expect(kind("bytes=abc", 1000, 0)).toBe("full");
    expect(decideRange("bytes=0-1", 1000, { maxRanges: 1 })).toEqual(partial([0, 1]));
    expect(kind("bytes=0-1,3-4", 1000, 1)).toBe("full");
    // Counted while reading: the error after the excess range is never seen.
    expect(kind("bytes=0-1,3-4,x", 1000, 1)).toBe("full");
    expect(kind("bytes=0-1,x", 1000, 1)).toBe("unsatisfiable");
    // Empty specs do not count.
    expect(decideRange("bytes=0-1,5-3", 1000, { maxRanges: 1 })).toEqual(partial([0, 1]));
  });

  it("declines for an unknown length", () => {
    expect(kind("bytes=0-1", -1)).toBe("full");
    expect(kind("bytes=0-1", Number.NaN)).toBe("full");
  });
});

describe("Content-Range values", () => {
  it("formats satisfied and unsatisfied ranges", () => {
    expect(contentRange({ start: 0, end: 499 }, 1000)).toBe("bytes 0-499/1000");
    expect(unsatisfiedRange(1000)).toBe("bytes */1000");
    expect(unsatisfiedRange(0)).toBe("bytes */0");
  });
});

describe("decideRange properties", () => {
  const length = fc.integer({ min: 0, max: 5000 });
  const spec = fc.oneof(
    fc.tuple(fc.nat(6000), fc.nat(6000)).map(([a, b]) => `${a}-${b}`),
    fc.nat(6000).map((a) => `${a}-`),
    fc.nat(6000).map((n) => `-${n}`),
  );
  const header = fc.array(spec, { minLength: 1, maxLength: 6 }).map((s) => "bytes=" + s.join(","));

  it("never throws on arbitrary strings", () => {
    fc.assert(
      fc.property(fc.option(fc.string(), { nil: null }), length, (h, len) => {
        const d = decideRange(h, len);
        expect(["full", "partial", "unsatisfiable"]).toContain(d.kind);
      }),
    );
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(..."bytes=0123456789-, \t") }), length, (tail, len) => {
        decideRange("bytes=" + tail, len);
      }),
    );
  });

  it("every accepted range lies within [0, length) and their total does not exceed length", () => {
    fc.assert(
      fc.property(header, length, (h, len) => {
        const d = decideRange(h, len);
        if (d.kind !== "partial") return;
        expect(d.ranges.length).toBeGreaterThan(0);
        let total = 0;
        for (const r of d.ranges) {
          expect(r.start).toBeGreaterThanOrEqual(0);
          expect(r.start).toBeLessThanOrEqual(r.end);
          expect(r.end).toBeLessThan(len);
          total += r.end - r.start + 1;
        }
        expect(total).toBeLessThanOrEqual(len);
      }),
    );
  });

  it("suffix ranges select the last min(n, length) bytes", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100000 }), fc.nat(200000), (len, n) => {
        const d = decideRange(`bytes=-${n}`, len);
        if (n === 0) expect(d).toEqual(UNSAT);
        else expect(d).toEqual(partial([len - Math.min(n, len), len - 1]));
      }),
    );
  });

  it("format then decide gives the same ranges back", () => {
    const ranges = fc
      .integer({ min: 1, max: 100000 })
      .chain((len) =>
        fc.tuple(
          fc.constant(len),
          fc.array(
            fc.tuple(fc.nat(len - 1), fc.nat(len - 1)).map(([a, b]): ByteRange => ({
              start: Math.min(a, b),
              end: Math.max(a, b),
            })),
            { minLength: 1, maxLength: 5 },
          ),
        ),
      )
      .filter(([len, rs]) => rs.reduce((t, r) => t + r.end - r.start + 1, 0) <= len);
    fc.assert(
      fc.property(ranges, ([len, rs]) => {
        expect(decideRange(formatRange(rs), len)).toEqual({ kind: "partial", ranges: rs });
      }),
    );
  });

  it("adding spaces where nginx skips them does not change the decision", () => {
    const specs = fc.array(spec, { minLength: 1, maxLength: 6 });
    fc.assert(
      fc.property(specs, length, (list, len) => {
        // Spaces go before a spec, around a first-last '-', and before ',' or the end,
        // never between a suffix '-' and its number.
        const spaced = list.map((x) => " " + (x.startsWith("-") ? x : x.replace("-", " - ")) + " ");
        expect(decideRange("bytes=" + spaced.join(","), len)).toEqual(
          decideRange("bytes=" + list.join(","), len),
        );
        if (list.some((x) => x.startsWith("-"))) {
          const broken = list.map((x) => (x.startsWith("-") ? "- " + x.slice(1) : x));
          expect(decideRange("bytes=" + broken.join(","), len).kind).not.toBe("partial");
        }
      }),
    );
  });
});
