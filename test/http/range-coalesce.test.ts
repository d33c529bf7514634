import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decideRange, type ByteRange, type Steps } from "../../src/http/range";
import { COALESCE_GAP_BYTES, coalesceRanges, MAX_SKIP_BYTES, planReads, shapeRanges } from "../../src/http/range-coalesce";
import { DEFAULT_MAX_RANGES } from "../../src/config/node-config";

const r = (start: number, end: number): ByteRange => ({ start, end });

describe("coalesceRanges (RFC 9110 §15.3.7.2)", () => {
  it("merges overlapping, adjacent and close ranges, keeping the order they were asked in", () => {
    expect(coalesceRanges([r(0, 9), r(5, 19)])).toEqual([r(0, 19)]);
    expect(coalesceRanges([r(0, 9), r(10, 19)])).toEqual([r(0, 19)]);
    expect(coalesceRanges([r(0, 9), r(0, 9)])).toEqual([r(0, 9)]);
    // a gap smaller than a part header (80 bytes) is sent rather than framed
    expect(coalesceRanges([r(0, 9), r(10 + COALESCE_GAP_BYTES - 1, 200)])).toEqual([r(0, 200)]);
    expect(coalesceRanges([r(0, 9), r(10 + COALESCE_GAP_BYTES, 200)])).toEqual([r(0, 9), r(90, 200)]);
    // out of order: merged parts take the place of the earliest one they absorbed
    expect(coalesceRanges([r(500, 599), r(0, 99), r(590, 700), r(50, 60)])).toEqual([r(500, 700), r(0, 99)]);
  });

  it("caps the parts after coalescing at MAX_RANGES, answering the whole file above it", () => {
    const many = Array.from({ length: 1000 }, (_, i) => r(i * 200, i * 200));
    expect(shapeRanges(many, DEFAULT_MAX_RANGES).kind).toBe("full");
    expect(shapeRanges(many.slice(0, 16), 16)).toEqual({ kind: "partial", ranges: many.slice(0, 16) });
    expect(shapeRanges(many.slice(0, 17), 16).kind).toBe("full");
    // 1,000 one-byte ranges next to each other are one part, not over the cap
    const dense = Array.from({ length: 1000 }, (_, i) => r(i * 2, i * 2));
    expect(shapeRanges(dense, 16)).toEqual({ kind: "partial", ranges: [r(0, 1998)] });
  });
});

describe("planReads: storage reads of a multipart answer", () => {
  it("reads ascending parts in one read of their span", () => {
    expect(planReads([r(0, 9), r(100, 199), r(5000, 5099)])).toEqual([{ start: 0, end: 5099, first: 0, count: 3 }]);
  });

  it("starts a new read when a part goes backwards or lies more than MAX_SKIP_BYTES ahead", () => {
    expect(planReads([r(500, 599), r(0, 99), r(200, 299)])).toEqual([
      { start: 500, end: 599, first: 0, count: 1 },
      { start: 0, end: 299, first: 1, count: 2 },
    ]);
    const far = MAX_SKIP_BYTES + 1000;
    expect(planReads([r(0, 9), r(10 + MAX_SKIP_BYTES, 20 + MAX_SKIP_BYTES), r(far * 2, far * 2)])).toEqual([
      { start: 0, end: 20 + MAX_SKIP_BYTES, first: 0, count: 2 },
      { start: far * 2, end: far * 2, first: 2, count: 1 },
    ]);
  });

  it("needs at most one read per part, and one read for 16 ascending parts of a small file", () => {
    const parts = Array.from({ length: 16 }, (_, i) => r(i * 1000, i * 1000 + 9));
    expect(planReads(parts)).toHaveLength(1);
    expect(planReads([...parts].reverse())).toHaveLength(16);
  });
});

describe("Range parsing, coalescing and read plan: properties", () => {
  const length = fc.integer({ min: 0, max: 1_000_000 });
  const spec = fc.oneof(
    fc.tuple(fc.nat(1_100_000), fc.nat(1_100_000)).map(([a, b]) => `${a}-${b}`),
    fc.nat(1_100_000).map((a) => `${a}-`),
    fc.nat(1_100_000).map((n) => `-${n}`),
    fc.string({ maxLength: 4 }),
  );
  const header = fc.array(spec, { minLength: 1, maxLength: 60 }).map((s) => "bytes=" + s.join(","));
  const cap = fc.integer({ min: 1, max: 32 });

  it("never throws; parts are disjoint, more than the gap apart, within the length, at most the cap, covering every byte asked for", () => {
    fc.assert(
      fc.property(header, length, cap, (h, len, maxRanges) => {
        const d = decideRange(h, len);
        if (d.kind !== "partial") return;
        const shaped = shapeRanges(d.ranges, maxRanges);
        if (shaped.kind === "full") {
          expect(coalesceRanges(d.ranges).length).toBeGreaterThan(maxRanges);
          return;
        }
        const parts = shaped.ranges;
        expect(parts.length).toBeLessThanOrEqual(maxRanges);
        const sorted = [...parts].sort((a, b) => a.start - b.start);
        sorted.forEach((p, i) => {
          expect(p.start).toBeGreaterThanOrEqual(0);
          expect(p.end).toBeGreaterThanOrEqual(p.start);
          expect(p.end).toBeLessThan(len);
          if (i > 0) expect(p.start - sorted[i - 1]!.end - 1).toBeGreaterThanOrEqual(COALESCE_GAP_BYTES);
        });
        for (const asked of d.ranges) expect(parts.some((p) => p.start <= asked.start && asked.end <= p.end)).toBe(true);
        // every part starts and ends on a byte that was asked for
        for (const p of parts) {
          expect(d.ranges.some((a) => a.start === p.start)).toBe(true);
          expect(d.ranges.some((a) => a.end === p.end)).toBe(true);
        }
        // the read plan covers every part exactly once, in answer order, within its span
        const spans = planReads(parts);
        expect(spans.length).toBeLessThanOrEqual(parts.length);
        let next = 0;
        for (const s of spans) {
          expect(s.first).toBe(next);
          next += s.count;
          for (let i = s.first; i < s.first + s.count; i++) {
            expect(parts[i]!.start).toBeGreaterThanOrEqual(s.start);
            expect(parts[i]!.end).toBeLessThanOrEqual(s.end);
            if (i > s.first) expect(parts[i]!.start).toBeGreaterThan(parts[i - 1]!.end);
          }
        }
        expect(next).toBe(parts.length);
      }),
      { numRuns: 500 },
    );
  });

  it("does work linear in the header (parse), n log n in the ranges (coalesce), linear in the parts (plan), by step count", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4000 }), fc.boolean(), fc.integer({ min: 1, max: 500 }), (n, shuffled, stride) => {
        const specs = Array.from({ length: n }, (_, i) => (shuffled ? (i * 7919) % n : i) * stride).map((a) => `${a}-${a}`);
        const h = "bytes=" + specs.join(",");
        const parse: Steps = { count: 0 };
        const d = decideRange(h, n * stride + 1, { steps: parse });
        expect(parse.count).toBeLessThanOrEqual(h.length);
        if (d.kind !== "partial") return;
        const merge: Steps = { count: 0 };
        const parts = coalesceRanges(d.ranges, COALESCE_GAP_BYTES, merge);
        const m = d.ranges.length;
        expect(merge.count).toBeLessThanOrEqual(3 * m * (Math.ceil(Math.log2(m + 1)) + 1));
        const plan: Steps = { count: 0 };
        planReads(parts, MAX_SKIP_BYTES, plan);
        expect(plan.count).toBe(parts.length);
      }),
      { numRuns: 60 },
    );
  });
});
