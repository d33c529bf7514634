import { describe, it, expect } from "vitest";
import fc from "fast-check";
import { multipartBoundary, multipartPlan } from "../../src/http/multipart";
import type { ByteRange } from "../../src/http/range";

const text = (u: Uint8Array): string => String.fromCharCode(...u);

function assemble(plan: ReturnType<typeof multipartPlan>, body: Uint8Array): Uint8Array {
  const chunks: Uint8Array[] = [];
  for (const p of plan.parts) chunks.push(p.head, body.subarray(p.range.start, p.range.end + 1));
  chunks.push(plan.tail);
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

describe("multipartBoundary", () => {
  it("is 20 zero-padded digits like nginx's", () => {
    expect(multipartBoundary(1)).toBe("00000000000000000001");
    expect(multipartBoundary(0)).toBe("00000000000000000000");
    expect(multipartBoundary()).toMatch(/^\d{20}$/);
    expect(multipartBoundary(Number.MAX_SAFE_INTEGER)).toBe("00009007199254740991");
  });

  it("differs between calls without a seed", () => {
    expect(new Set(Array.from({ length: 10 }, () => multipartBoundary())).size).toBe(10);
  });
});

describe("multipartPlan", () => {
  const body = new TextEncoder().encode("abcdefghij");

  it("frames exactly like nginx 1.22 (observed with curl)", () => {
    const ranges: ByteRange[] = [{ start: 0, end: 1 }, { start: 8, end: 9 }];
    const plan = multipartPlan(ranges, 10, "text/plain", "00000000000000000001");
    expect(plan.contentType).toBe("multipart/byteranges; boundary=00000000000000000001");
    const wire = assemble(plan, body);
    expect(text(wire)).toBe(
      "\r\n--00000000000000000001\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-1/10\r\n\r\nab" +
        "\r\n--00000000000000000001\r\nContent-Type: text/plain\r\nContent-Range: bytes 8-9/10\r\n\r\nij" +
        "\r\n--00000000000000000001--\r\n",
    );
    expect(plan.contentLength).toBe(198);
  });

  it("omits the part Content-Type when the entity has none", () => {
    const ranges: ByteRange[] = [{ start: 0, end: 1 }, { start: 8, end: 9 }];
    for (const type of [null, ""]) {
      const plan = multipartPlan(ranges, 10, type, "00000000000000000002");
      expect(text(assemble(plan, body))).toBe(
        "\r\n--00000000000000000002\r\nContent-Range: bytes 0-1/10\r\n\r\nab" +
          "\r\n--00000000000000000002\r\nContent-Range: bytes 8-9/10\r\n\r\nij" +
          "\r\n--00000000000000000002--\r\n",
      );
      expect(plan.contentLength).toBe(146);
    }
  });

  it("keeps request order and duplicates, and writes header text as Latin-1", () => {
    const plan = multipartPlan([{ start: 5, end: 5 }, { start: 5, end: 5 }], 10, "text/x; a=\u00e9", "b");
    expect(plan.parts.map((p) => p.range.start)).toEqual([5, 5]);
    const head = plan.parts[0]?.head ?? new Uint8Array();
    expect(Array.from(head)).toContain(0xe9);
  });

  it("contentLength is the exact byte count of the assembled body", () => {
    const arb = fc.integer({ min: 1, max: 5000 }).chain((len) =>
      fc.tuple(
        fc.constant(len),
        fc.array(
          fc.tuple(fc.nat(len - 1), fc.nat(len - 1)).map(([a, b]) => ({ start: Math.min(a, b), end: Math.max(a, b) })),
          { minLength: 2, maxLength: 6 },
        ),
        fc.option(fc.constantFrom("application/octet-stream", "text/plain; charset=utf-8"), { nil: null }),
      ),
    );
    fc.assert(
      fc.property(arb, ([len, ranges, type]) => {
        const data = new Uint8Array(len).map((_, i) => i & 0xff);
        const plan = multipartPlan(ranges, len, type, multipartBoundary(7));
        expect(assemble(plan, data).byteLength).toBe(plan.contentLength);
      }),
    );
  });
});
