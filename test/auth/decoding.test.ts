// Decoders that see client (or origin-response) bytes: any input is a value or a typed
// "no", never an exception (issue #11 M1).
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { presentedToken } from "../../src/auth/secret-token";
import { decodeBase64url } from "../../src/signing/base64url";
import { sha256FromDigestField } from "../../src/http/digest";
import { fileNameFromPath } from "../../src/http/metalink";

const anyText = fc.oneof(fc.string(), fc.string({ unit: "binary" }), fc.string({ unit: "grapheme-ascii" }).map((s) => `${s}%`));
/** Printable ASCII: what a header value holds on the wire (workerd warns on the rest). */
const headerValue = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) }).map((s) => s.trim());

describe("decoders never throw", () => {
  it("presentedToken: Bearer, Basic (base64 of UTF-8) and the query parameter", () => {
    const b64 = (bytes: number[]) => btoa(String.fromCharCode(...bytes));
    expect(presentedToken(new Headers({ authorization: `Basic ${b64([...new TextEncoder().encode("u:pässwörd")])}` }))).toBe("pässwörd");
    expect(presentedToken(new Headers({ authorization: `Basic ${b64([0x75, 0x3a, 0xff])}` }))).toBeNull(); // not UTF-8
    expect(presentedToken(new Headers({ authorization: "Basic %%%" }))).toBeNull();
    expect(presentedToken(new Headers({ authorization: "Basic" }))).toBeNull();
    expect(presentedToken(new Headers({ authorization: `Basic ${btoa("no-colon")}` }))).toBeNull();
    expect(presentedToken(new Headers(), new URL("http://h/ath/update?token=%zz"), "token")).toBe("%zz");
    fc.assert(
      fc.property(fc.constantFrom("Basic ", "Bearer ", "basic  ", "Digest ", ""), headerValue, anyText, (scheme, value, query) => {
        const r = presentedToken(new Headers({ authorization: `${scheme}${value}`.trim() || "x" }), new URL(`http://h/p?token=${encodeURIComponent(query)}`), "token");
        expect(r === null || typeof r === "string").toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it("base64url, Repr-Digest fields and metalink file names", () => {
    fc.assert(
      fc.property(anyText, (s) => {
        const bytes = decodeBase64url(s);
        expect(bytes === undefined || bytes instanceof Uint8Array).toBe(true);
        const hex = sha256FromDigestField(s);
        expect(hex === undefined || /^[0-9a-f]{64}$/.test(hex)).toBe(true);
        const named = sha256FromDigestField(`sha-256=:${s}:`);
        expect(named === undefined || /^[0-9a-f]{64}$/.test(named)).toBe(true);
        const name = fileNameFromPath(`/dir/${s}`);
        expect(typeof name.ok).toBe("boolean");
      }),
      { numRuns: 1000 },
    );
  });
});
