import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { cidrContains, formatIp, parseCidr, parseIp, type Ip } from "../../src/net/ip";

const v4 = (s: string) => parseIp(s);

describe("parseIp: one identity per address (issue #11 L9)", () => {
  it("refuses IPv4 octets with leading zeros instead of guessing octal or decimal", () => {
    for (const s of ["010.0.0.1", "10.0.0.01", "00.0.0.0", "1.2.3.004", "::ffff:010.0.0.1"]) expect(parseIp(s), s).toBeUndefined();
    expect(formatIp(v4("10.0.0.1")!)).toBe("10.0.0.1");
    expect(formatIp(v4("0.0.0.0")!)).toBe("0.0.0.0");
    expect(v4("256.0.0.1")).toBeUndefined();
  });

  it("reads and prints every IPv4 address exactly, up to 255.255.255.255", () => {
    expect(v4("255.255.255.255")).toEqual({ family: 4, value: 0xffffffffn });
    expect(formatIp({ family: 4, value: 0xffffffffn })).toBe("255.255.255.255");
    expect(v4("192.0.2.1")).toEqual({ family: 4, value: 0xc0000201n });
    fc.assert(
      fc.property(fc.ipV4(), (s) => {
        const ip = v4(s)!;
        expect(ip.value).toBe(s.split(".").reduce((acc, o) => (acc << 8n) | BigInt(o), 0n));
        expect(formatIp(ip)).toBe(s);
      }),
    );
  });

  it("reads an IPv4-mapped IPv6 address (::ffff:0:0/96) as the IPv4 address", () => {
    for (const s of ["::ffff:192.0.2.1", "::FFFF:c000:0201", "0:0:0:0:0:ffff:192.0.2.1", "::ffff:c000:201"]) {
      expect(parseIp(s), s).toEqual({ family: 4, value: 0xc0000201n });
    }
    // Not mapped: IPv4-compatible (deprecated) and NAT64 stay IPv6.
    expect(parseIp("::192.0.2.1")?.family).toBe(6);
    expect(parseIp("64:ff9b::192.0.2.1")?.family).toBe(6);
  });

  it("prints IPv6 in RFC 5952 form", () => {
    expect(formatIp(parseIp("2001:0DB8:0000:0000:0000:0000:0000:0001")!)).toBe("2001:db8::1");
    expect(formatIp(parseIp("2001:db8:0:0:1:0:0:1")!)).toBe("2001:db8::1:0:0:1"); // first of equal runs
    expect(formatIp(parseIp("2001:db8:0:1:1:1:1:1")!)).toBe("2001:db8:0:1:1:1:1:1"); // one zero group stays
    expect(formatIp(parseIp("::")!)).toBe("::");
    expect(formatIp(parseIp("::1")!)).toBe("::1");
    expect(formatIp(parseIp("1::")!)).toBe("1::");
  });

  it("maps CIDRs inside ::ffff:0:0/96 to IPv4; other IPv6 blocks never cover an IPv4 client", () => {
    expect(parseCidr("::ffff:10.0.0.0/104")).toEqual(parseCidr("10.0.0.0/8"));
    expect(cidrContains(parseCidr("::ffff:0:0/96")!, v4("203.0.113.9")!)).toBe(true);
    // "::/0" or "::/64" in a trustedProxies / allowlist / exclude list meant IPv6 clients
    // only: covering every IPv4 client (trusting its X-Forwarded-For) would be a silent
    // widening of existing configurations.
    for (const block of ["::/0", "::/64", "::/32", "::/96"]) {
      expect(cidrContains(parseCidr(block)!, v4("192.0.2.1")!), block).toBe(false);
      expect(cidrContains(parseCidr(block)!, parseIp("::ffff:192.0.2.1")!), block).toBe(false);
    }
    expect(cidrContains(parseCidr("::/0")!, parseIp("2001:db8::1")!)).toBe(true);
    expect(cidrContains(parseCidr("2001:db8::/32")!, v4("203.0.113.9")!)).toBe(false);
    expect(cidrContains(parseCidr("10.0.0.0/8")!, parseIp("::ffff:10.1.2.3")!)).toBe(true);
    expect(cidrContains(parseCidr("10.0.0.0/8")!, parseIp("2001:db8::1")!)).toBe(false);
    expect(parseCidr("010.0.0.0/8")).toBeUndefined();
  });
});

const anyIp: fc.Arbitrary<Ip> = fc.oneof(
  fc.bigInt({ min: 0n, max: 2n ** 32n - 1n }).map((value): Ip => ({ family: 4, value })),
  fc
    .bigInt({ min: 0n, max: 2n ** 128n - 1n })
    .filter((v) => v >> 32n !== 0xffffn)
    .map((value): Ip => ({ family: 6, value })),
);

describe("parseIp / formatIp properties", () => {
  it("round-trips: formatIp is a spelling parseIp reads back to the same address", () => {
    fc.assert(fc.property(anyIp, (ip) => {
          expect(parseIp(formatIp(ip))).toEqual(ip);
        }), { numRuns: 2000 });
  });

  it("every accepted spelling has one canonical text (formatting is idempotent)", () => {
    const spelling = fc.oneof(
      anyIp.map(formatIp),
      anyIp.filter((ip) => ip.family === 6).map((ip) => formatIp(ip).toUpperCase()),
      // full, uncompressed, zero-padded form
      anyIp.filter((ip) => ip.family === 6).map((ip) => ip.value.toString(16).padStart(32, "0").replace(/(.{4})(?!$)/g, "$1:")),
      fc.string({ maxLength: 45 }),
      fc.stringMatching(/^[0-9a-fA-F:.]{0,45}$/),
    );
    fc.assert(
      fc.property(spelling, (s) => {
        const ip = parseIp(s);
        if (ip) expect(parseIp(formatIp(ip))).toEqual(ip);
      }),
      { numRuns: 3000 },
    );
  });

  it("never throws, whatever the text", () => {
    fc.assert(fc.property(fc.string({ maxLength: 80 }), (s) => void parseIp(s)), { numRuns: 3000 });
  });
});
