import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { metaKey } from "../../src/store/layout";
import { metaToRecord, type StoredMeta } from "../../src/store/meta";
import { putFile, uniquePath } from "../support/origin";
import { baseFetch, nodeUrl } from "./support";
import { putMirrored, realM1Url, settledFetch, withRealM1 } from "./mirror-support";

const store = (env as unknown as Env).STORE;
const SHA = "a".repeat(64);
const SHA_B64 = btoa(String.fromCharCode(...new Array(32).fill(0xaa)));

/** As a node records a verified copy in the shared bucket (what the base reads). */
async function storedByNode(path: string, size: number): Promise<void> {
  const meta: StoredMeta = { key: path, version: "v", etag: '"e"', lastModified: null, length: size, contentType: "application/x-iso9660-image", cacheControl: null, sha256: SHA, storedAt: Date.now() };
  await store.put(metaKey(path), "", { customMetadata: metaToRecord(meta) });
}

describe("base: mirror metadata (RFC 6249, RFC 9530, RFC 5854)", () => {
  it("lists up to MAX_LINKS nodes and mirrors as Link rel=duplicate with priorities, plus X-Mirrored-By and the metalink", async () => {
    const path = uniquePath("iso/distro.iso").replace("/t/", "/iso/");
    // Listed only once it holds the current copy (issue #14): a real mirror that does.
    await putMirrored(path, 400_000);
    const res = await settledFetch(withRealM1, path);
    expect(res.status).toBe(307);
    const link = res.headers.get("link")!;
    const duplicates = [...link.matchAll(/<([^>]+)>; rel=duplicate; pri=(\d+)/g)].map((m) => [new URL(m[1]!).origin + new URL(m[1]!).pathname, m[2]]);
    expect(duplicates.map((d) => d[1])).toEqual(["1", "2", "3"]);
    expect(new Set(duplicates.map((d) => d[0]))).toEqual(new Set([`${nodeUrl(0)}${path}`, `${nodeUrl(1)}${path}`, `${realM1Url}${path}`]));
    // Path-absolute without PUBLIC_URL: the request's Host is the client's choice (issue #11 L3).
    expect(link).toContain(`<${path}.meta4>; rel=describedby; type="application/metalink4+xml"`);
    expect(res.headers.get("x-mirrored-by")?.split(", ")).toHaveLength(3);
    // The first Link is where the client was sent.
    expect(res.headers.get("location")).toBe(/<([^>]+)>/.exec(link)![1]);
    const two = await settledFetch({ ...withRealM1, MAX_LINKS: "2" }, path);
    expect([...two.headers.get("link")!.matchAll(/rel=duplicate/g)]).toHaveLength(2);
    await two.text();
  });

  it("mirrors only get paths under their prefixes, and no token", async () => {
    const path = uniquePath("not-iso.bin");
    await putMirrored(path, 200_000); // the mirror even holds it, but outside its /iso/ prefix
    const res = await settledFetch(withRealM1, path);
    expect(res.headers.get("link")).not.toContain(realM1Url);
    const iso = uniquePath("x.iso").replace("/t/", "/iso/");
    await putMirrored(iso, 200_000);
    const link = (await settledFetch(withRealM1, iso)).headers.get("link")!;
    const mirrorLink = link.split(", ").find((l) => l.includes(realM1Url))!;
    expect(mirrorLink).not.toContain("offload_token");
  });

  it("sends Repr-Digest from the nodes' shared store, honouring Want-Repr-Digest", async () => {
    const path = uniquePath("digest.bin");
    await storedByNode(path, 500_000);
    const res = await baseFetch(path);
    expect(res.status).toBe(307);
    expect(res.headers.get("repr-digest")).toBe(`sha-256=:${SHA_B64}:`);
    await res.text();
    const no = await baseFetch(path, { headers: { "want-repr-digest": "sha-256=0, sha-512=3" } });
    expect(no.headers.get("repr-digest")).toBeNull();
    await no.text();
    const yes = await baseFetch(path, { headers: { "want-repr-digest": "sha-512=10, sha-256=1" } });
    expect(yes.headers.get("repr-digest")).toBe(`sha-256=:${SHA_B64}:`);
    await yes.text();
  });

  it("serves a Metalink 4 document at <path>.meta4 and for Accept: application/metalink4+xml", async () => {
    const path = uniquePath("meta.bin");
    await storedByNode(path, 500_000);
    for (const [url, headers] of [[`${path}.meta4`, {}], [path, { accept: "application/metalink4+xml, */*;q=0.1" }]] as const) {
      const res = await baseFetch(url, { headers });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("application/metalink4+xml");
      const xml = await res.text();
      expect(xml).toContain('<metalink xmlns="urn:ietf:params:xml:ns:metalink">');
      expect(xml).toContain('<file name="meta.bin">');
      expect(xml).toContain("<size>500000</size>");
      expect(xml).toContain(`<hash type="sha-256">${SHA}</hash>`);
      const urls = [...xml.matchAll(/<url(?: location="(\w+)")? priority="(\d+)">([^<]+)<\/url>/g)];
      expect(urls.map((u) => u[2])).toEqual(["1", "2"]);
      expect(urls.map((u) => u[1]).sort()).toEqual(["de", "us"]);
    }
    const small = uniquePath("small.txt");
    await putFile(small, 100);
    const none = await baseFetch(`${small}.meta4`);
    expect(none.status).toBe(404); // not an offloaded file: the origin's own answer for that name
    await none.text();
  });
});
