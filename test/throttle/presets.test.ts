import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { findPreset, MODEM_PRESETS, parseRate } from "../../src/throttle/presets";

/** Downstream bit/s per ITU-T Recommendation (and mod_dialup's names). */
const EXPECTED_BITS: Record<string, number> = {
  "V.21": 300,
  "V.22": 1200,
  "V.22bis": 2400,
  "V.26bis": 2400,
  "V.32": 9600,
  "V.32bis": 14_400,
  "V.34": 28_800,
  "V.34+": 33_600,
  "V.90": 56_000,
  "V.92": 56_000,
  "i-was-rich-and-got-a-leased-line": 1_500_000,
};

describe("modem presets", () => {
  it("has every standard from V.21 to V.92 at its downstream rate, each with a source", () => {
    expect(Object.fromEntries(MODEM_PRESETS.map((p) => [p.name, p.bitsPerSecond]))).toEqual(EXPECTED_BITS);
    for (const p of MODEM_PRESETS) expect(p.source.length).toBeGreaterThan(10);
  });

  it.each(Object.entries(EXPECTED_BITS))("%s resolves to bits / 8 bytes per second", (name, bits) => {
    expect(parseRate(name)).toEqual({ ok: true, bytesPerSecond: bits / 8, label: name });
  });

  it("accepts mod_dialup's names in any case and without the dot", () => {
    for (const spelling of ["V.92", "v.92", "v92", "V92", " V.92 "]) {
      expect(parseRate(spelling)).toEqual({ ok: true, bytesPerSecond: 7000, label: "V.92" });
    }
    expect(findPreset("v.26BIS")?.name).toBe("V.26bis");
    expect(findPreset("v34+")?.bitsPerSecond).toBe(33_600);
    expect(findPreset("I-Was-Rich-And-Got-A-Leased-Line")?.bitsPerSecond).toBe(1_500_000);
    expect(findPreset("V.93")).toBeUndefined();
  });

  it("cannot be changed at run time", () => {
    expect(Object.isFrozen(MODEM_PRESETS)).toBe(true);
    expect(MODEM_PRESETS.every((p) => Object.isFrozen(p))).toBe(true);
  });
});

describe("parseRate", () => {
  it.each([
    [7000, 7000],
    [37.5, 37.5],
    ["7000", 7000],
    ["56kbit", 7000],
    ["56 kbit/s", 7000],
    ["56kbps", 7000],
    ["56Kb/s", 7000],
    ["56000bit", 7000],
    ["56000 bits/s", 7000],
    ["1.5Mbit/s", 187_500],
    ["7000B/s", 7000],
    ["7000 B", 7000],
    ["7000 bytes/s", 7000],
    ["7000Bps", 7000],
    ["64KB/s", 64_000],
    ["64kB/s", 64_000],
    ["64KiB/s", 65_536],
    ["1MB/s", 1_000_000],
    ["1MiB/s", 1_048_576],
    ["10MB/s", 10_000_000],
    ["1GB/sec", 1e9],
    [".5B/s", 0.5],
  ] as const)("%j = %d B/s", (spec, bytes) => {
    const r = parseRate(spec);
    expect(r.ok, JSON.stringify(r)).toBe(true);
    if (r.ok) expect(r.bytesPerSecond).toBe(bytes);
  });

  it("labels numeric rates in bytes per second", () => {
    expect(parseRate("56kbit")).toEqual({ ok: true, bytesPerSecond: 7000, label: "7000 B/s" });
    expect(parseRate("300bit")).toEqual({ ok: true, bytesPerSecond: 37.5, label: "37.5 B/s" });
  });

  it.each([
    "", "  ", "0", "0B/s", "-1", "-5kbit", "abc", "V.93", "56k", "56 kb it", "1e3", "10 TB/s",
    "2000GB/s", "7000 B/min", "5 parsecs", "x".repeat(100), "NaN", "Infinity",
  ])("rejects %j with a reason", (spec) => {
    const r = parseRate(spec);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason.length).toBeGreaterThan(0);
  });

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY, 2e12])("rejects the number %d", (n) => {
    expect(parseRate(n).ok).toBe(false);
  });

  it("never throws, and what it accepts is a finite positive rate", () => {
    const spec = fc.oneof(
      fc.string(),
      fc.double(),
      fc.integer(),
      fc.constantFrom(...MODEM_PRESETS.map((p) => p.name)),
      fc.tuple(fc.double({ min: 0, max: 1e6, noNaN: true }), fc.constantFrom("", " ", "k", "M", "Gi", "x"), fc.constantFrom("bit", "b", "B", "bytes", "", "?"), fc.constantFrom("", "/s", "ps", "/sec", "/h"))
        .map(([n, p, u, s]) => `${n}${p}${u}${s}`),
    );
    fc.assert(
      fc.property(spec, (s) => {
        const r = parseRate(s);
        if (r.ok) {
          expect(Number.isFinite(r.bytesPerSecond)).toBe(true);
          expect(r.bytesPerSecond).toBeGreaterThan(0);
          expect(r.label.length).toBeGreaterThan(0);
        } else {
          expect(typeof r.reason).toBe("string");
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("bits are an eighth of bytes for every prefix", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100_000 }), fc.constantFrom("", "k", "M", "Ki", "Mi"), (n, prefix) => {
        const bits = parseRate(`${n}${prefix}bit/s`);
        const bytes = parseRate(`${n}${prefix}B/s`);
        expect(bits.ok && bytes.ok).toBe(true);
        if (bits.ok && bytes.ok) expect(bits.bytesPerSecond * 8).toBeCloseTo(bytes.bytesPerSecond, 6);
      }),
    );
  });
});
