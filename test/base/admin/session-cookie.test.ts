// The admin session cookie parser (session.ts authenticate) on any Cookie header: a
// typed answer (an AdminAuth or null), never a throw, and never a session it did not sign.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { authenticate, newSession, SESSION_COOKIE } from "../../../src/admin/session";

const TOKEN = "admin-test-token-0123456789";
// The ASCII a Headers value may hold (RFC 9110 §5.5 field-vchar, SP, HTAB); obs-text is
// left out only because workerd warns on every non-ASCII header value.
const FIELD_CHARS = ["\t", ...Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i))];
const fieldText = (maxLength: number) => fc.string({ unit: fc.constantFrom(...FIELD_CHARS), maxLength });

function cookieHeader(value: string): Headers {
  return new Headers({ cookie: `a=1; ${SESSION_COOKIE}=${value}; b=2` });
}

describe("admin session cookie: parsing never throws (property)", () => {
  it("any Cookie header gives null (nothing forged passes), never a throw", async () => {
    await fc.assert(
      fc.asyncProperty(fieldText(200), async (text) => {
        expect(await authenticate(new Headers({ cookie: text }), TOKEN)).toBeNull();
        expect(await authenticate(cookieHeader(text), TOKEN)).toBeNull();
      }),
      { numRuns: 300 },
    );
  });

  it("a real session cookie with any one character changed, cut or extended is refused", async () => {
    const now = Date.now();
    const value = (await newSession(TOKEN, now)).value;
    expect(await authenticate(cookieHeader(value), TOKEN, now)).toMatchObject({ kind: "session" });
    await fc.assert(
      fc.asyncProperty(fc.nat(value.length - 1), fieldText(3), fc.constantFrom("replace", "cut", "insert"), async (at, text, how) => {
        const changed = how === "cut" ? value.slice(0, at) : how === "insert" ? value.slice(0, at) + text + value.slice(at) : value.slice(0, at) + text + value.slice(at + 1);
        // Whitespace around the value is not part of it (RFC 6265 §5.2 step 5 trims both ends),
        // so only a change that leaves something else than the value itself must be refused.
        fc.pre(changed !== value && changed.replace(/^[ \t]+|[ \t]+$/g, "") !== value);
        expect(await authenticate(cookieHeader(changed), TOKEN, now)).toBeNull();
      }),
      { numRuns: 300 },
    );
  });
});
