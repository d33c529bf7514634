import { describe, it, expect } from "vitest";
import fc from "fast-check";
import {
  METALINK_NS,
  METALINK_TYPE,
  buildMetalink4,
  fileNameFromPath,
  parseAccept,
  wantsMetalink,
  type MetalinkInput,
} from "../../src/http/metalink";

// ---- a small, strict XML 1.0 checker (workerd has no DOMParser) ----

interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const NAME = "[A-Za-z_][A-Za-z0-9._-]*";
const ATTR = new RegExp(`^\\s+(${NAME})="([^"<]*)"`);
const PREDEFINED: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

/** Replaces references; throws on a bare "&" or an unknown entity. */
function unescape(raw: string): string {
  return raw.replace(/&([^;]*);?/g, (all, ref: string) => {
    if (!all.endsWith(";")) throw new Error(`bare & in ${JSON.stringify(raw)}`);
    if (ref in PREDEFINED) return PREDEFINED[ref] ?? "";
    const num = /^#(?:x([0-9A-Fa-f]+)|([0-9]+))$/.exec(ref);
    if (!num) throw new Error(`unknown entity &${ref};`);
    return String.fromCodePoint(num[1] ? parseInt(num[1], 16) : Number(num[2]));
  });
}

/**
 * Parses the subset of XML a metalink uses (declaration, elements, attributes in double
 * quotes, text, references), throwing on anything not well-formed: unbalanced or crossed
 * tags, a second root, "<" or a bare "&" in text, duplicate attributes, control
 * characters, text outside the root.
 */
function parseXml(xml: string): XmlElement {
  const decl = /^<\?xml version="1\.0" encoding="UTF-8"\?>\n/.exec(xml);
  if (!decl) throw new Error("missing or wrong XML declaration");
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/.test(xml)) throw new Error("character not allowed in XML");
  let rest = xml.slice(decl[0].length);
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  while (rest.length > 0) {
    const lt = rest.indexOf("<");
    const text = lt < 0 ? rest : rest.slice(0, lt);
    if (text.includes(">")) throw new Error("'>' in text"); // legal XML, but we always escape it
    const top = stack[stack.length - 1];
    if (top) top.text += unescape(text);
    else if (text.trim() !== "") throw new Error(`text outside the root: ${JSON.stringify(text)}`);
    if (lt < 0) break;
    rest = rest.slice(lt);
    const close = new RegExp(`^</(${NAME})\\s*>`).exec(rest);
    if (close) {
      const open = stack.pop();
      if (open?.name !== close[1]) throw new Error(`</${close[1]}> closes <${open?.name}>`);
      rest = rest.slice(close[0].length);
      continue;
    }
    const start = new RegExp(`^<(${NAME})`).exec(rest);
    if (!start?.[1]) throw new Error(`bad markup at ${JSON.stringify(rest.slice(0, 20))}`);
    const el: XmlElement = { name: start[1], attrs: {}, children: [], text: "" };
    rest = rest.slice(start[0].length);
    for (let a = ATTR.exec(rest); a; a = ATTR.exec(rest)) {
      const [all, name = "", value = ""] = a;
      if (name in el.attrs) throw new Error(`duplicate attribute ${name}`);
      el.attrs[name] = unescape(value);
      rest = rest.slice(all.length);
    }
    const end = /^\s*(\/?)>/.exec(rest);
    if (!end) throw new Error(`bad start tag <${el.name}: ${JSON.stringify(rest.slice(0, 20))}`);
    rest = rest.slice(end[0].length);
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(el);
    else if (root) throw new Error("second root element");
    else root = el;
    if (end[1] !== "/") stack.push(el);
  }
  if (stack.length > 0) throw new Error(`unclosed <${stack[stack.length - 1]?.name}>`);
  if (!root) throw new Error("no root element");
  return root;
}

const child = (el: XmlElement, name: string) => el.children.filter((c) => c.name === name);

describe("the test's XML checker", () => {
  it("accepts well-formed and refuses broken documents", () => {
    const head = '<?xml version="1.0" encoding="UTF-8"?>\n';
    expect(parseXml(`${head}<a x="1&amp;2"><b>t&lt;</b><c/></a>\n`).children.map((c) => c.name)).toEqual(["b", "c"]);
    for (const bad of [
      "<a></a>",
      `${head}<a><b></a></b>`,
      `${head}<a>`,
      `${head}<a></a><b></b>`,
      `${head}<a>x & y</a>`,
      `${head}<a>&foo;</a>`,
      `${head}<a x="1" x="2"></a>`,
      `${head}<a x='1'></a>`,
      `${head}<a x="<"></a>`,
      `${head}<a>\u0001</a>`,
      `${head}x<a></a>`,
    ]) {
      expect(() => parseXml(bad), bad).toThrow();
    }
  });
});

// ---- buildMetalink4: the document ----

/** The document buildMetalink4 writes for an input it accepts. */
function documentOf(input: MetalinkInput): string {
  const r = buildMetalink4(input);
  if (!r.ok) throw new Error(`expected a document: ${r.reason}`);
  return r.xml;
}

const HASH = "3d6fece8033d146d8611eab4f032df738c8c1283620fd02a1f2bfec6e27d590d";
const BASE: MetalinkInput = {
  name: "/pub/debian/debian-13.0.0-amd64-netinst.iso",
  size: 14471447,
  sha256Hex: HASH.toUpperCase(),
  urls: [
    { url: "https://mirror.example.de/debian-13.0.0-amd64-netinst.iso", priority: 2, location: "DE" },
    { url: "https://node1.example/pub/debian/debian-13.0.0-amd64-netinst.iso?offload_token=a.b&x=1", priority: 1 },
  ],
};

describe("buildMetalink4 document (RFC 5854)", () => {
  it("builds the expected document", () => {
    const xml = documentOf({
      ...BASE,
      generator: "edge-offload-cdn/0.1",
      published: new Date("2026-01-02T03:04:05.678Z"),
      updated: new Date(Date.UTC(2026, 0, 3)),
    });
    expect(xml).toBe(
      [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<metalink xmlns="urn:ietf:params:xml:ns:metalink">',
        "  <generator>edge-offload-cdn/0.1</generator>",
        "  <published>2026-01-02T03:04:05Z</published>",
        "  <updated>2026-01-03T00:00:00Z</updated>",
        '  <file name="debian-13.0.0-amd64-netinst.iso">',
        "    <size>14471447</size>",
        `    <hash type="sha-256">${HASH}</hash>`,
        '    <url priority="1">https://node1.example/pub/debian/debian-13.0.0-amd64-netinst.iso?offload_token=a.b&amp;x=1</url>',
        '    <url location="de" priority="2">https://mirror.example.de/debian-13.0.0-amd64-netinst.iso</url>',
        "  </file>",
        "</metalink>",
        "",
      ].join("\n"),
    );
  });

  it("parses as XML with the RFC 5854 structure", () => {
    const root = parseXml(documentOf(BASE));
    expect(root.name).toBe("metalink");
    expect(root.attrs).toEqual({ xmlns: METALINK_NS });
    const files = child(root, "file");
    expect(files).toHaveLength(1);
    const file = files[0]!;
    expect(file.attrs.name).toBe("debian-13.0.0-amd64-netinst.iso");
    expect(child(file, "size")[0]?.text).toBe("14471447");
    expect(child(file, "hash")[0]?.attrs).toEqual({ type: "sha-256" });
    const urls = child(file, "url");
    expect(urls.map((u) => u.attrs.priority)).toEqual(["1", "2"]);
    expect(urls[0]?.text).toBe(BASE.urls[1]?.url);
    expect(child(root, "generator")).toHaveLength(0);
    // Without a hash: no hash element.
    expect(documentOf({ ...BASE, sha256Hex: undefined })).not.toContain("<hash");
  });

  it("escapes names and takes the last path segment, decoded", () => {
    const cases: Array<[string, string]> = [
      ["/a/Tom%20%26%20Jerry%20%3C1%3E%20%22x%22%20it's.iso", `Tom & Jerry <1> "x" it's.iso`],
      ["/a/%C3%A9t%C3%A9%20%E6%97%A5%E6%9C%AC%20%F0%9F%98%80.tar.gz", "été 日本 😀.tar.gz"],
      ["plain.bin", "plain.bin"],
      ["/a/b&c.iso", "b&c.iso"],
      ["/x/%26amp%3B", "&amp;"],
    ];
    for (const [path, name] of cases) {
      const xml = documentOf({ ...BASE, name: path });
      expect(parseXml(xml).children[0]?.attrs.name, path).toBe(name);
      const attr = /<file name="([^"]*)">/.exec(xml)?.[1] ?? "";
      expect(attr, path).not.toMatch(/[<>"']|&(?!(amp|lt|gt|quot|#39);)/);
    }
    expect(documentOf({ ...BASE, name: "/a/%3C%26%3E%22'" })).toContain('name="&lt;&amp;&gt;&quot;&#39;"');
  });

  it("escapes URLs and the generator", () => {
    const xml = documentOf({
      ...BASE,
      generator: `<gen & "co" 'x'>`,
      urls: [{ url: "https://m.example/a?b=1&c='2'", priority: 1 }],
    });
    expect(xml).toContain("<generator>&lt;gen &amp; &quot;co&quot; &#39;x&#39;&gt;</generator>");
    expect(xml).toContain("<url priority=\"1\">https://m.example/a?b=1&amp;c=&#39;2&#39;</url>");
    const root = parseXml(xml);
    expect(child(root, "generator")[0]?.text).toBe(`<gen & "co" 'x'>`);
    expect(child(root, "file")[0]?.children.find((c) => c.name === "url")?.text).toBe("https://m.example/a?b=1&c='2'");
  });

  it("refuses names that are not file names or hold characters XML cannot carry", () => {
    for (const path of [
      "/a/",
      "",
      "/a/.",
      "/a/..",
      "/a/%2E%2E",
      "/a/x%2Fy",
      "/a/x%5Cy",
      "/a/x%00y",
      "/a/x%0Ay",
      "/a/x%7Fy",
      "/a/x%C2%85y", // NEL, a C1 control
      "/a/x%EF%BF%BEy", // U+FFFE
      "/a/bad%zz",
      "/a/%C3", // truncated UTF-8
      "/a/%ED%A0%80", // encoded surrogate
      "/a/tab\there",
      "/a/lone\ud800",
    ]) {
      const r = buildMetalink4({ ...BASE, name: path });
      expect(r.ok, path).toBe(false);
    }
    expect(fileNameFromPath("/a/b%20c")).toEqual({ ok: true, name: "b c" });
  });

  it("parses and round-trips any file name", () => {
    const encode = (s: string) => {
      try {
        return encodeURIComponent(s);
      } catch {
        return undefined; // lone surrogate
      }
    };
    const name = fc.string({ unit: "binary", minLength: 1 }).filter((s) => {
      const e = encode(s);
      return e !== undefined && fileNameFromPath(e).ok;
    });
    fc.assert(
      fc.property(name, (s) => {
        const xml = documentOf({ ...BASE, name: `/dir/${encodeURIComponent(s)}` });
        expect(parseXml(xml).children[0]?.attrs.name).toBe(s);
      }),
      { numRuns: 500 },
    );
  });

  it("enforces priorities 1..999999 and lists URLs by priority", () => {
    const u = (url: string, priority: number, location?: string) => ({ url, priority, location });
    const r = buildMetalink4({
      ...BASE,
      urls: [
        u("https://c.example/f", 999999),
        u("https://a.example/f", 1),
        u("https://b.example/f", 5, "us"),
        u("https://z.example/f", 0),
        u("https://y.example/f", 1_000_000),
        u("https://x.example/f", 2.5),
        u("https://w.example/f", 1, "usa"),
        u("https://a.example/f", 7),
        u("https://v.example/<f>", 1),
        u("file:///etc/passwd", 1),
      ],
    });
    if (!r.ok) throw new Error(r.reason);
    const urls = child(child(parseXml(r.xml), "file")[0]!, "url");
    expect(urls.map((x) => [x.text, x.attrs.priority, x.attrs.location])).toEqual([
      ["https://a.example/f", "1", undefined],
      ["https://b.example/f", "5", "us"],
      ["https://c.example/f", "999999", undefined],
    ]);
    expect(r.rejected.map((x) => x.url)).toEqual([
      "https://z.example/f",
      "https://y.example/f",
      "https://x.example/f",
      "https://w.example/f",
      "https://a.example/f",
      "https://v.example/<f>",
      "file:///etc/passwd",
    ]);
    expect(r.rejected[0]?.reason).toContain("RFC 5854 §4.2.16.2");
    expect(buildMetalink4({ ...BASE, urls: [u("https://z.example/f", 0)] })).toMatchObject({ ok: false });
    expect(buildMetalink4({ ...BASE, urls: [] })).toMatchObject({ ok: false });
  });

  it("refuses bad sizes, hashes, dates and generators", () => {
    for (const bad of [
      { size: -1 },
      { size: 1.5 },
      { size: Number.NaN },
      { size: 2 ** 53 },
      { sha256Hex: HASH.slice(1) },
      { sha256Hex: HASH.replace("d", "g") },
      { published: new Date(Number.NaN) },
      { updated: new Date(Date.UTC(10000, 0, 1)) },
      { generator: "" },
      { generator: "a\u0000b" },
    ] satisfies Array<Partial<MetalinkInput>>) {
      expect(buildMetalink4({ ...BASE, ...bad }).ok, JSON.stringify(bad)).toBe(false);
    }
    expect(documentOf({ ...BASE, size: 0 })).toContain("<size>0</size>");
  });
});

describe("wantsMetalink (RFC 9110 §12.5.1)", () => {
  it("is true only for an explicit, non-zero range", () => {
    const yes = [
      METALINK_TYPE,
      "application/metalink4+xml;q=0.5",
      "Application/Metalink4+XML",
      "*/*,application/metalink4+xml,application/metalink+xml", // what aria2 sends
      "text/html, application/metalink4+xml ; q=0.001",
      'text/html;foo="a,b;q=0", application/metalink4+xml;charset="utf-8"',
      "application/metalink4+xml;q=1.000",
      "application/metalink4+xml;Q=0.3",
      "application/metalink4+xml, bad/",
    ];
    const no = [
      null,
      "",
      "*/*",
      "application/*",
      "application/metalink+xml",
      "application/metalink4+xml;q=0",
      "application/metalink4+xml;q=0.000",
      "application/metalink4+xml;q=2", // invalid q: the range is ignored
      "application/metalink4+xml;q=0.0001",
      "application/metalink4+xml;q=abc",
      "application/metalink4+xml;q=1;q=1",
      "application/metalink4+xml, application/metalink4+xml;q=0",
      'text/html;foo="application/metalink4+xml"',
      "application/metalink4+xmlx",
      "xapplication/metalink4+xml",
    ];
    for (const a of yes) expect(wantsMetalink(a), String(a)).toBe(true);
    for (const a of no) expect(wantsMetalink(a), String(a)).toBe(false);
  });

  it("parseAccept returns ranges and rejected elements", () => {
    expect(parseAccept('text/html;level=1;q=0.7, , */*;q=0.1, bad, a/b;x="q\\"z"')).toEqual({
      ranges: [
        { type: "text", subtype: "html", q: 0.7, params: [["level", "1"]] },
        { type: "*", subtype: "*", q: 0.1, params: [] },
        { type: "a", subtype: "b", q: 1, params: [["x", 'q"z']] },
      ],
      rejected: ["bad"],
    });
    expect(parseAccept("*/html, a/b/c, a/b;q, a/b;=1").rejected).toEqual(["*/html", "a/b/c", "a/b;q", "a/b;=1"]);
  });

  it("never throws", () => {
    fc.assert(fc.property(fc.string({ unit: "binary" }), (s) => typeof wantsMetalink(s) === "boolean"));
  });
});
