import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { rewriteLocation } from "../../src/http/location";

const UP = "http://10.0.0.5:8080";
const PUB = "https://www.example.com";

describe("rewriteLocation (proxy_redirect default, browser-safe)", () => {
  it("the upstream's own URLs become the public ones; its path prefix is dropped on a segment boundary", () => {
    expect(rewriteLocation("http://10.0.0.5:8080/a/b?c=1#f", UP, PUB)).toBe("https://www.example.com/a/b?c=1#f");
    expect(rewriteLocation("/a/b", UP, PUB)).toBe("https://www.example.com/a/b");
    expect(rewriteLocation("http://10.0.0.5:8080/reports/x", `${UP}/reports`, PUB)).toBe("https://www.example.com/x");
    expect(rewriteLocation("http://10.0.0.5:8080/reportsX", `${UP}/reports`, PUB)).toBe("https://www.example.com/reportsX");
  });

  it("another host named explicitly as an absolute URL is left alone (as nginx does)", () => {
    expect(rewriteLocation("https://sso.example.net/login?next=/", UP, PUB)).toBe("https://sso.example.net/login?next=/");
    expect(rewriteLocation("mailto:ops@example.com", UP, PUB)).toBe("mailto:ops@example.com");
  });

  it("scheme-relative and backslash spellings of another host stay on the public host", () => {
    const cases: [string, string][] = [
      ["//evil.example/x", "/x"],
      ["/\\evil.example/x", "/x"],
      ["\\\\evil.example/x", "/x"],
      ["\\/evil.example/x", "/x"],
      ["/\t/evil.example/x", "/x"],
      [" //evil.example/x", "/x"],
      ["http:\\\\evil.example/x", "/x"],
      ["https:evil.example/x", "/x"],
      ["ht\ttp://evil.example/x", "/x"],
      ["http://evil.example\\@10.0.0.5:8080/x", "/@10.0.0.5:8080/x"],
      ["https://evil.example/x\n", "/x"],
    ];
    for (const [loc, path] of cases) expect(rewriteLocation(loc, UP, PUB), JSON.stringify(loc)).toBe(PUB + path);
  });

  it('publicOrigin "" (no configured public URL): a path-absolute reference, never "//host"', () => {
    expect(rewriteLocation("http://10.0.0.5:8080/a?b", UP, "")).toBe("/a?b");
    expect(rewriteLocation("//evil.example/x", UP, "")).toBe("/x");
    expect(rewriteLocation("http://10.0.0.5:8080//evil.example/x", UP, "")).toBe("/evil.example/x");
    expect(rewriteLocation("/\\/evil.example", UP, "")).toBe("/");
  });

  it("property: a browser following the result lands on the public host, unless the upstream named another host explicitly", () => {
    const piece = fc.constantFrom("/", "\\", "//", "\\\\", "\t", "\n", " ", ":", "http:", "https:", "evil.example", "10.0.0.5:8080", "@", "?", "#", "x", "%2f", ".", "..");
    for (const publicOrigin of [PUB, ""]) {
      fc.assert(
        fc.property(fc.array(piece, { maxLength: 8 }).map((p) => p.join("")), (loc) => {
          const out = rewriteLocation(loc, UP, publicOrigin);
          let landed: URL;
          try {
            landed = new URL(out, `${PUB}/some/page`);
          } catch {
            return out === loc; // unparseable in, unparseable out
          }
          if (landed.host === "www.example.com") return true;
          // Left alone: an explicit, clean absolute URL to another host.
          return out === loc && /^[a-z][a-z0-9+.-]*:/i.test(loc) && !/[\s\\]/.test(loc) && new URL(loc).host !== "10.0.0.5:8080";
        }),
        { numRuns: 2000 },
      );
    }
  });
});
