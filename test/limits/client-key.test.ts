import { describe, expect, it } from "vitest";
import { clientOf } from "../../src/limits/client-key";

const key = (ip: string | null) => clientOf(new Headers(ip === null ? {} : { "cf-connecting-ip": ip })).key;

describe("clientOf: the limiter's client identity (issue #11 L9)", () => {
  it("is one key per address, whatever the spelling", () => {
    expect(key("203.0.113.5")).toBe("203.0.113.5");
    expect(key(" 203.0.113.5 ")).toBe("203.0.113.5");
    expect(key("::ffff:203.0.113.5")).toBe("203.0.113.5");
    expect(key("::FFFF:CB00:7105")).toBe("203.0.113.5");
    expect(key("2001:DB8:0:0::1")).toBe(key("2001:db8::ffff"));
    expect(key("2001:db8::1")).toBe("2001:db8::/64");
  });

  it("does not put every IPv4-mapped client into one /64", () => {
    expect(key("::ffff:198.51.100.1")).not.toBe(key("::ffff:198.51.100.2"));
  });

  it("refuses leading-zero octets rather than keying on the raw text", () => {
    const c = clientOf(new Headers({ "cf-connecting-ip": "010.0.0.1" }));
    expect(c.ip).toBeUndefined();
    expect(c.unidentified).toMatch(/CF-Connecting-IP/);
    expect(c.key).not.toBe("010.0.0.1");
  });

  it("gives a request without a usable header an identity of its own, never a shared bucket", () => {
    for (const h of [null, "", "garbage", "203.0.113.5, 203.0.113.6"]) {
      const a = clientOf(new Headers(h === null ? {} : { "cf-connecting-ip": h }));
      const b = clientOf(new Headers(h === null ? {} : { "cf-connecting-ip": h }));
      expect(a.ip, String(h)).toBeUndefined();
      expect(a.unidentified, String(h)).toMatch(/CF-Connecting-IP/);
      expect(a.key).not.toBe(b.key);
    }
    expect(clientOf(new Headers({ "cf-connecting-ip": "203.0.113.5" })).unidentified).toBeUndefined();
  });
});
