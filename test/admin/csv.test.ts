import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { csvField, toCsv } from "../../src/admin/csv";
import { parseCsv } from "../support/csv-parser";

describe("admin CSV (RFC 4180)", () => {
  it("quotes only what needs it and ends every record with CRLF", () => {
    expect(toCsv(["path", "bytes"], [["/a b.iso", 5], ['/x,"y"', null]])).toBe('path,bytes\r\n/a b.iso,5\r\n"/x,""y""",\r\n');
  });

  it("neutralises cells a spreadsheet would run as a formula, and leaves numbers alone", () => {
    for (const v of ["=1+1", "+1", "-1", "@SUM(A1)", "\tx"]) expect(csvField(v)).toBe(`'${v}`);
    expect(csvField("\rx")).toBe(`"'\rx"`);
    expect(csvField(-1)).toBe("-1");
    expect(csvField(0.25)).toBe("0.25");
    expect(csvField(Number.NaN)).toBe("");
  });

  it("round-trips any text through a strict parser (what is not a formula comes back as it was)", () => {
    const cell = fc.oneof(fc.string({ unit: "binary" }), fc.constantFrom(",", '"', "\r\n", "\n", '""', "a,b"));
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }).chain((w) => fc.tuple(fc.array(cell, { minLength: w, maxLength: w }), fc.array(fc.array(cell, { minLength: w, maxLength: w }), { maxLength: 5 }))), ([header, rows]) => {
        const back = parseCsv(toCsv(header, rows));
        const expected = [header, ...rows].map((r) => r.map((v) => (/^[=+\-@\t\r]/.test(v) ? `'${v}` : v)));
        expect(back).toEqual(expected);
      }),
    );
  });
});
