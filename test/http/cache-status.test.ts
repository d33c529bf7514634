import { describe, it, expect } from "vitest";
import fc from "fast-check";
import { cacheStatus, sfInteger, sfString, sfTokenOrString } from "../../src/http/cache-status";

describe("cacheStatus (RFC 9211)", () => {
  it("builds hit and miss members", () => {
    expect(cacheStatus("node-a", { hit: true, ttl: 30, detail: "cache-api" })).toBe(
      "node-a; hit; ttl=30; detail=cache-api",
    );
    expect(cacheStatus("node-a", { fwd: "miss", fwdStatus: 200, stored: true, detail: "r2" })).toBe(
      "node-a; fwd=miss; fwd-status=200; stored; detail=r2",
    );
  });

  it("orders parameters and omits false booleans", () => {
    expect(
      cacheStatus("n", {
        detail: "d", key: "/k", collapsed: true, stored: false, ttl: -5, fwdStatus: 304, fwd: "stale", hit: false,
      }),
    ).toBe('n; fwd=stale; fwd-status=304; ttl=-5; collapsed; key="/k"; detail=d');
    expect(cacheStatus("n", {})).toBe("n");
  });

  it("serializes non-token values as sf-string with escapes", () => {
    expect(cacheStatus("my cache", { detail: 'a "b" \\c' })).toBe('"my cache"; detail="a \\"b\\" \\\\c"');
    expect(cacheStatus("1node", { detail: "9x" })).toBe('"1node"; detail="9x"');
    expect(sfTokenOrString("r2:hot/x")).toBe("r2:hot/x");
    expect(sfTokenOrString("")).toBe('""');
    expect(sfString("é\n")).toBe('"??"');
  });

  it("integers: truncated, clamped, non-finite dropped", () => {
    expect(sfInteger(1.9)).toBe("1");
    expect(sfInteger(-0.5)).toBe("0");
    expect(sfInteger(1e20)).toBe("999999999999999");
    expect(sfInteger(Number.NaN)).toBeUndefined();
    expect(cacheStatus("n", { ttl: Number.POSITIVE_INFINITY })).toBe("n");
  });

  it("output is always printable ASCII without CR/LF", () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), (node, key, detail) => {
        const v = cacheStatus(node, { hit: true, key, detail, ttl: 1 });
        expect(v).toMatch(/^[\x20-\x7e]*$/);
      }),
    );
  });
});
