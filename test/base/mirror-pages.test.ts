// Issue #14 part 5: the per-file pages (`?mirrorlist`, `.sha256` / `?sha256`, `.meta4`)
// against the real origin, the real R2 store and three real mirrors: one current, one
// outdated, one without the file.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { metaKey } from "../../src/store/layout";
import { metaToRecord, type StoredMeta } from "../../src/store/meta";
import { TOKEN_PARAM, verifyToken } from "../../src/signing/redirect-token";
import { putBody, putFile, uniquePath } from "../support/origin";
import { baseFetch, nodeUrl, originUrl } from "./support";
import { putOnMirror, realMirrorUrl, settledFetch } from "./mirror-support";

const SIZE = 200_000;
const MTIME = 1_700_000_000;
const KEYS = [{ id: "k1", secret: "node-test-secret-0001" }];
const COUNTRIES = ["SE", "NL", "JP"];
// The default two nodes (n1 DE, n2 US) plus three real mirrors.
const vars = { MIRRORS: JSON.stringify([0, 1, 2].map((i) => ({ id: `real${i}`, url: realMirrorUrl(i), location: { lat: 50 + i, lon: 5 + i, country: COUNTRIES[i] } }))) };
const hrefs = (html: string) => [...html.matchAll(/<a href="([^"]+)">/g)].map((m) => m[1]!.replaceAll("&amp;", "&"));
const withoutToken = (url: string) => url.replace(new RegExp(`[?&]${TOKEN_PARAM}=[^&]*$`), "");

/** The file on the origin, current on mirror 0, outdated on mirror 1, absent from mirror 2; the copies then verified. */
async function spreadFile(path: string): Promise<void> {
  await putFile(path, SIZE, { mtime: MTIME });
  await putOnMirror(0, path, SIZE, { mtime: MTIME });
  await putOnMirror(1, path, SIZE, { mtime: MTIME - 3600 });
  await settledFetch(vars, path);
}

/** As a node records a whole stored copy (and its SHA-256) in the shared bucket. */
async function storedByNode(path: string, size: number, sha256: string): Promise<void> {
  const meta: StoredMeta = { key: path, version: "v", etag: '"e"', lastModified: new Date(MTIME * 1000).toUTCString(), length: size, contentType: "application/octet-stream", cacheControl: null, sha256, storedAt: Date.now() };
  await (env as unknown as Env).STORE.put(metaKey(path), "", { customMetadata: metaToRecord(meta) });
}

describe("<file>?mirrorlist", () => {
  it("lists our nodes (signed as a redirect signs) and only the mirror holding the current copy, with country and priority", async () => {
    const path = uniquePath("list.iso");
    await spreadFile(path);
    const res = await settledFetch(vars, `${path}?mirrorlist`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("cache-control")).toBe("private, no-store");
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    const html = await res.text();
    expect(html).toContain("<title>Mirrors for list.iso</title>");
    expect(html).toContain("195.3 KiB (200,000 bytes)");
    expect(html).toContain(new Date(MTIME * 1000).toUTCString());
    expect(html).toContain("not known yet");
    expect(html).toContain(`<a href="${path}.meta4">`);

    const urls = hrefs(html).filter((u) => u.startsWith("http"));
    expect(urls.filter((u) => u.startsWith(realMirrorUrl(0)))).toEqual([`${realMirrorUrl(0)}${path}`]);
    expect(urls.some((u) => u.startsWith(realMirrorUrl(1)) || u.startsWith(realMirrorUrl(2)))).toBe(false);
    expect(html).toContain("2 more configured place(s) not listed");
    const rows = [...html.matchAll(/<tr><td>(\d+)<\/td><td>([^<]+)<\/td><td>([^<]+)<\/td>/g)].map((m) => [m[1], m[2], m[3]]);
    expect(rows.map((r) => r[0])).toEqual(["1", "2", "3"]);
    expect(rows.map((r) => `${r[1]} ${r[2]}`).sort()).toEqual(["DE our node", "SE mirror", "US our node"]);

    // Our nodes: the URL a redirect gives, token and all (the token checks as a node checks it).
    const nodes = urls.filter((u) => u.startsWith(nodeUrl(0)) || u.startsWith(nodeUrl(1)));
    expect(nodes).toHaveLength(2);
    for (const u of nodes) {
      const token = new URL(u).searchParams.get(TOKEN_PARAM)!;
      expect(await verifyToken(KEYS, token, { path, now: Math.floor(Date.now() / 1000) })).toMatchObject({ ok: true });
    }
    const redirect = await settledFetch(vars, path);
    expect(redirect.status).toBe(307);
    const linked = [...redirect.headers.get("link")!.matchAll(/<([^>]+)>; rel=duplicate/g)].map((m) => withoutToken(m[1]!));
    expect(new Set(urls.map(withoutToken))).toEqual(new Set(linked));
  });

  it("answers HEAD with the page's headers and no body", async () => {
    const path = uniquePath("head.iso");
    await spreadFile(path);
    const res = await settledFetch(vars, `${path}?mirrorlist`, "HEAD");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(await res.text()).toBe("");
  });

  it("escapes a hostile path and file name", async () => {
    const path = uniquePath("%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E%22'&.iso");
    await putFile(path, SIZE);
    const res = await baseFetch(`${path}?mirrorlist`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).not.toMatch(/<img|onerror=alert\(1\)>/);
    expect(html).toContain("Mirrors for &lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;.iso");
    // The canonical path keeps "'" and "&" literal (RFC 3986 pchars): escaped here too.
    expect(html).toMatch(/<code>\/t\/[^<]*%3Cimg%20src[^<]*%3E%22&#39;&amp;\.iso<\/code>/);
  });

  it("reads the flag on the canonical query and keeps the file's other members, as the redirect would", async () => {
    const path = uniquePath("query.iso");
    await putFile(path, SIZE);
    const res = await baseFetch(`${path}?v=%zz&%6Dirrorlist`);
    expect(res.status).toBe(200);
    const urls = hrefs(await res.text()).filter((u) => u.startsWith("http"));
    expect(urls.length).toBeGreaterThan(0);
    for (const u of urls) expect(u).toContain(`${path}?v=%25zz&${TOKEN_PARAM}=`);
  });

  it("refuses a bad query with 400 naming it, and answers a file the base does not offload with a plain 404", async () => {
    const path = uniquePath("bad.iso");
    await putFile(path, SIZE);
    for (const [query, reason] of [
      ["mirrorlist&sha256", "ask for one page"],
      ["mirrorlist&mirrorlist", "ask for one page"],
      ["mirrorlist=yes", 'query member "mirrorlist" takes no value'],
      ["sha256=1", 'query member "sha256" takes no value'],
    ]) {
      const res = await baseFetch(`${path}?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.headers.get("content-type")).toBe("text/plain; charset=utf-8");
      expect(await res.text(), query).toContain(reason);
    }
    // Not a flag: the ordinary redirect (malformed escapes only get a spelling).
    const odd = await baseFetch(`${path}?%&mirrorlist2&x=sha256`);
    expect(odd.status).toBe(307);
    await odd.text();

    const small = uniquePath("small.txt");
    await putFile(small, 100);
    for (const page of ["mirrorlist", "sha256"]) {
      const res = await baseFetch(`${small}?${page}`);
      expect(res.status).toBe(404);
      expect(await res.text()).toContain("the site serves this file itself (small)");
    }
  });
});

describe("<file>.sha256 and <file>?sha256", () => {
  it("answer one sha256sum line once a node has stored the file; sha256sum -c reads it and it matches the bytes", async () => {
    const path = uniquePath("sum%20me.iso") // canonical, as a node keys its copy;
    const file = await putFile(path, SIZE, { mtime: MTIME });
    await storedByNode(path, SIZE, file.sha256);
    for (const url of [`${path}.sha256`, `${path}?sha256`]) {
      const res = await baseFetch(url);
      expect(res.status, url).toBe(200);
      expect(res.headers.get("content-type")).toBe("text/plain; charset=utf-8");
      const body = await res.text();
      expect(body).toBe(`${file.sha256}  sum me.iso\n`);
      // GNU sha256sum -c: "<64 hex> <space or *><name>", one per line; check it as it would.
      const m = /^([0-9a-f]{64}) ([ *])(.+)\n$/.exec(body)!;
      const bytes = await (await fetch(`${originUrl}${path}`)).arrayBuffer();
      const hex = [...new Uint8Array(await crypto.subtle.digest("SHA-256", bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");
      expect(m[1]).toBe(hex);
      expect(m[3]).toBe(decodeURIComponent(path.slice(path.lastIndexOf("/") + 1)));
    }
    const head = await baseFetch(`${path}.sha256`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
    // The same digest in the Metalink and on the mirror list.
    expect(await (await baseFetch(`${path}.meta4`)).text()).toContain(`<hash type="sha-256">${file.sha256}</hash>`);
    const html = await (await baseFetch(`${path}?mirrorlist`)).text();
    expect(html).toContain(`<code>${file.sha256}</code>`);
    expect(html).toContain(`<a href="${path}.sha256">`);
  });

  it("until the SHA-256 is known: 503 with Retry-After and a plain reason, stored by no cache", async () => {
    const path = uniquePath("unknown.iso");
    await putFile(path, SIZE);
    for (const url of [`${path}.sha256`, `${path}?sha256`]) {
      const res = await baseFetch(url);
      expect(res.status, url).toBe(503);
      expect(res.headers.get("retry-after")).toBe("60");
      expect(res.headers.get("cache-control")).toBe("no-store");
      expect(await res.text()).toContain("not known yet");
    }
  });

  it("the origin's own <file>.sha256 is served as it is; ?sha256 stays ours", async () => {
    const path = uniquePath("own.iso");
    const file = await putFile(path, SIZE);
    await storedByNode(path, SIZE, file.sha256);
    const own = `${file.sha256}  own.iso\n${"0".repeat(64)}  other.iso\n`;
    await putBody(`${path}.sha256`, own);
    const res = await baseFetch(`${path}.sha256`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(own);
    expect(await (await baseFetch(`${path}?sha256`)).text()).toBe(`${file.sha256}  own.iso\n`);
  });
});

describe("<file>.meta4 filtered by freshness", () => {
  it("holds our nodes and the current mirror; the outdated and the missing one are absent", async () => {
    const path = uniquePath("fresh.iso");
    await spreadFile(path);
    const xml = await (await settledFetch(vars, `${path}.meta4`)).text();
    const urls = [...xml.matchAll(/<url[^>]*>([^<]+)<\/url>/g)].map((m) => m[1]!.replaceAll("&amp;", "&"));
    expect(urls.filter((u) => u.startsWith(nodeUrl(0)) || u.startsWith(nodeUrl(1)))).toHaveLength(2);
    expect(urls).toContain(`${realMirrorUrl(0)}${path}`);
    expect(urls.some((u) => u.startsWith(realMirrorUrl(1)) || u.startsWith(realMirrorUrl(2)))).toBe(false);
    expect(xml).toContain('location="se"');
  });
});
