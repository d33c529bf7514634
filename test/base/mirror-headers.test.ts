import { describe, expect, it } from "vitest";
import { mirrorHeaders } from "../../src/base/mirror-headers";
import type { TargetSpec } from "../../src/config/targets";
import { buildDuplicateLinks } from "../../src/http/link";

const target = (id: string, url: string, country?: string): TargetSpec => ({
  id, url, kind: "node", weight: 1, prefixes: [], healthPath: "/", ...(country ? { location: { lat: 0, lon: 0, country } } : {}),
});

describe("mirrorHeaders' fast Link builder agrees with the general RFC 8288 / RFC 6249 serializer", () => {
  it("same rel=duplicate link-values, in the same order, for the same ranked targets", () => {
    const ranked = [target("a", "https://a.example", "DE"), target("b", "http://[2001:db8::1]:8080/pub"), target("c", "https://c.example", "us")];
    const urlOf = (t: TargetSpec) => `${t.url}/iso/x.iso?offload_token=k1.1.YQ.abc`;
    for (const max of [0, 1, 2, 3, 5]) {
      const links = mirrorHeaders(ranked, urlOf, null, "https://base.example/iso/x.iso.meta4", null, max).get("link")!.split(", ");
      const expected = buildDuplicateLinks(ranked.slice(0, max).map((t, i) => ({ url: urlOf(t), priority: i + 1, ...(t.location?.country ? { geo: t.location.country } : {}) })), max);
      expect(expected.rejected, `max ${max}`).toEqual([]);
      expect(links.slice(0, -1), `max ${max}`).toEqual(expected.links);
      expect(links.at(-1)).toBe('<https://base.example/iso/x.iso.meta4>; rel=describedby; type="application/metalink4+xml"');
    }
  });
});
