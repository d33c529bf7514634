import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { pageInQuery, sha256sumLine } from "../../src/http/mirror-pages";
import { mirrorListHtml } from "../../src/http/mirrorlist-html";

describe("pageInQuery", () => {
  it("finds a flag in any spelling the canonical query gives, and keeps the other members", () => {
    expect(pageInQuery("")).toEqual({ page: null });
    expect(pageInQuery("v=1")).toEqual({ page: null });
    expect(pageInQuery("mirrorlist")).toEqual({ page: "mirrorlist", query: "" });
    expect(pageInQuery("mirrorlist=")).toEqual({ page: "mirrorlist", query: "" });
    expect(pageInQuery("%73ha256&v=%zz&&")).toEqual({ page: "sha256", query: "v=%25zz" });
    expect(pageInQuery("v=mirrorlist&sha2567")).toEqual({ page: null });
    expect(pageInQuery("Mirrorlist")).toEqual({ page: null }); // names are case-sensitive (query.ts decodes escapes only)
  });

  it("refuses a value or two flags, naming the member", () => {
    expect(pageInQuery("mirrorlist=1")).toEqual({ page: "bad", reason: 'query member "mirrorlist" takes no value' });
    expect(pageInQuery("sha256&mirrorlist")).toMatchObject({ page: "bad", reason: expect.stringContaining("sha256 and mirrorlist") });
  });

  it("never throws, whatever the query", () => {
    fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 60 }), (raw) => void pageInQuery(raw)));
  });
});

describe("sha256sumLine", () => {
  const hex = "AB".repeat(32);
  it("writes the line GNU sha256sum writes: lowercase hex, two spaces, the decoded file name", () => {
    expect(sha256sumLine(hex, "/pub/a%20b%C3%A9.iso")).toEqual({ ok: true, line: `${"ab".repeat(32)}  a bé.iso\n` });
  });
  it("refuses names sha256sum would escape or that are not names, and bad digests", () => {
    expect(sha256sumLine(hex, "/x/a%0Ab")).toMatchObject({ ok: false });
    expect(sha256sumLine(hex, "/x/a%5Cb")).toMatchObject({ ok: false });
    expect(sha256sumLine(hex, "/x/")).toMatchObject({ ok: false });
    expect(sha256sumLine("xyz", "/x/a")).toMatchObject({ ok: false });
  });
});

describe("mirrorListHtml", () => {
  const base = { path: "/p/f.iso", size: 5 * 1024 ** 3, lastModified: "Tue, 14 Nov 2023 22:13:20 GMT", sha256: null, metalinkUrl: "/p/f.iso.meta4", sha256Url: "/p/f.iso.sha256", notListed: 0 };
  it("links only http(s) and path-absolute URLs and escapes every value", () => {
    const html = mirrorListHtml({
      ...base,
      lastModified: "<b>x</b>",
      targets: [
        { url: "https://m.example/p/f.iso?a=1&b='2'", kind: "mirror", country: "de", priority: 1 },
        { url: "javascript:alert(1)", kind: "mirror", priority: 2 },
        { url: "//evil.example/x", kind: "node", country: "<x>", priority: 3 },
      ],
    });
    expect(html).toContain(`<a href="https://m.example/p/f.iso?a=1&amp;b=&#39;2&#39;">`);
    expect(html).not.toContain('href="javascript');
    expect(html).not.toContain('href="//evil');
    expect(html).toContain("<td>DE</td>");
    expect(html).toContain("<td>—</td>");
    expect(html).toContain("&lt;b&gt;x&lt;/b&gt;");
    expect(html).toContain("5.0 GiB (5,368,709,120 bytes)");
    expect(html).toContain("SHA-256</dt><dd>not known yet");
  });
  it("says so when no place holds the current version", () => {
    expect(mirrorListHtml({ ...base, targets: [], notListed: 3 })).toContain("No place is known to hold the current version");
  });
});
