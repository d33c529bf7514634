import { describe, expect, it } from "vitest";
import { mirrorHeaders } from "../../src/base/mirror-headers";
import type { TargetSpec } from "../../src/config/targets";

const target = (id: string, url: string, country?: string): TargetSpec => ({
  id, url, kind: "node", weight: 1, prefixes: [], healthPath: "/", ...(country ? { location: { lat: 0, lon: 0, country } } : {}),
});

describe("mirrorHeaders: RFC 6249 duplicates, X-Mirrored-By and the Metalink link", () => {
  const ranked = [target("a", "https://a.example", "DE"), target("b", "http://[2001:db8::1]:8080/pub"), target("c", "https://c.example", "us")];
  const urlOf = (t: TargetSpec) => `${t.url}/iso/x.iso?offload_token=k1.1.YQ.abc`;
  const meta4 = '<https://base.example/iso/x.iso.meta4>; rel=describedby; type="application/metalink4+xml"';
  const duplicates = [
    "<https://a.example/iso/x.iso?offload_token=k1.1.YQ.abc>; rel=duplicate; pri=1; geo=de",
    "<http://[2001:db8::1]:8080/pub/iso/x.iso?offload_token=k1.1.YQ.abc>; rel=duplicate; pri=2",
    "<https://c.example/iso/x.iso?offload_token=k1.1.YQ.abc>; rel=duplicate; pri=3; geo=us",
  ];

  it("lists the first maxLinks targets in rank order (pri from 1, geo lowercase), then the Metalink", () => {
    for (const max of [0, 1, 2, 3, 5]) {
      const h = new Headers(mirrorHeaders({ ranked, urlOf, info: null, metalinkUrl: "https://base.example/iso/x.iso.meta4", wantReprDigest: null, maxLinks: max }));
      expect(h.get("link"), `max ${max}`).toBe([...duplicates.slice(0, max), meta4].join(", "));
      expect(h.get("x-mirrored-by"), `max ${max}`).toBe(max === 0 ? null : ranked.slice(0, max).map(urlOf).join(", "));
    }
  });
});
