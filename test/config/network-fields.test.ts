// Issue #14 part 4: the per-target network fields (asns, ipv4, ipv6), validated once with the field named.
import { describe, expect, it } from "vitest";
import { parseBaseConfig } from "../../src/config/base-config";

const base = { ORIGIN_URL: "https://origin.example" };
const mirrors = (extra: Record<string, unknown>) => ({ MIRRORS: JSON.stringify([{ url: "https://m.example", ...extra }]) });

describe("targets: asns, ipv4, ipv6", () => {
  it("are absent unless declared (both families served, no AS)", () => {
    const m = parseBaseConfig({ ...base, ...mirrors({}) }).mirrors[0]!;
    expect(m.asns).toBeUndefined();
    expect(m.ipv4).toBeUndefined();
    expect(m.ipv6).toBeUndefined();
  });

  it("keeps what is declared, on mirrors and nodes, without duplicate AS numbers", () => {
    const m = parseBaseConfig({ ...base, ...mirrors({ asns: [3320, 64500, 3320], ipv6: false, ipv4: true }) }).mirrors[0]!;
    expect(m).toMatchObject({ asns: [3320, 64500], ipv4: true, ipv6: false });
    const n = parseBaseConfig({ ...base, OFFLOAD_NODES: JSON.stringify([{ url: "https://n.example", asns: [13335], ipv4: false }]) }).nodes[0]!;
    expect(n).toMatchObject({ asns: [13335], ipv4: false });
  });

  it.each([
    [mirrors({ asns: 3320 }), "MIRRORS[0].asns"],
    [mirrors({ asns: ["AS3320"] }), "MIRRORS[0].asns"],
    [mirrors({ asns: [0] }), "MIRRORS[0].asns"],
    [mirrors({ asns: [1.5] }), "MIRRORS[0].asns"],
    [mirrors({ asns: [4_294_967_296] }), "MIRRORS[0].asns"],
    [mirrors({ ipv6: "no" }), "MIRRORS[0].ipv6"],
    [mirrors({ ipv4: 0 }), "MIRRORS[0].ipv4"],
    [mirrors({ ipv4: false, ipv6: false }), "MIRRORS[0].ipv6"],
    [{ OFFLOAD_NODES: JSON.stringify([{ url: "https://n.example", ipv6: null }]) }, "OFFLOAD_NODES[0].ipv6"],
  ])("%j is refused naming %s", (vars, field) => {
    expect(() => parseBaseConfig({ ...base, ...vars })).toThrow(`invalid config ${field}:`);
  });

  it("BALANCER accepts network", () => {
    expect(parseBaseConfig({ ...base, BALANCER: "network" }).balancer).toBe("network");
  });
});
