// The mirror inventory's settings and the per-mirror originEtags, validated once with the field named.
import { describe, expect, it } from "vitest";
import { parseBaseConfig } from "../../src/config/base-config";

const base = { ORIGIN_URL: "https://origin.example" };

describe("mirror inventory config", () => {
  it("has defaults, a recheck no longer than a verdict", () => {
    expect(parseBaseConfig(base).mirrorChecks).toEqual({ verdictSeconds: 300, recheckSeconds: 60, timeoutMs: 3000 });
    expect(parseBaseConfig({ ...base, MIRROR_VERDICT_SECONDS: "30" }).mirrorChecks.recheckSeconds).toBe(30);
  });

  it.each([
    [{ MIRROR_VERDICT_SECONDS: "0" }, "MIRROR_VERDICT_SECONDS"],
    [{ MIRROR_VERDICT_SECONDS: "soon" }, "MIRROR_VERDICT_SECONDS"],
    [{ MIRROR_VERDICT_SECONDS: "30", MIRROR_RECHECK_SECONDS: "60" }, "MIRROR_RECHECK_SECONDS"],
    [{ MIRROR_CHECK_TIMEOUT_MS: "5" }, "MIRROR_CHECK_TIMEOUT_MS"],
    [{ MIRRORS: JSON.stringify([{ url: "https://m.example", originEtags: "yes" }]) }, "MIRRORS[0].originEtags"],
    [{ OFFLOAD_NODES: JSON.stringify([{ url: "https://n.example", originEtags: true }]) }, "OFFLOAD_NODES[0].originEtags"],
  ])("%j is refused naming %s", (vars, field) => {
    expect(() => parseBaseConfig({ ...base, ...vars })).toThrow(`invalid config ${field}:`);
  });

  it("keeps originEtags for a mirror", () => {
    expect(parseBaseConfig({ ...base, MIRRORS: JSON.stringify([{ url: "https://m.example", originEtags: true }]) }).mirrors[0]?.originEtags).toBe(true);
  });
});
