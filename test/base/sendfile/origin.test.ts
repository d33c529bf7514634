import { describe, expect, it } from "vitest";
import { behave, putBody, putFile, stats, totalStats, uniquePath } from "../../support/origin";
import { originUrl } from "../support";
import { backend, baseEnv, bytes, gunzip, sendfile } from "./support";
import { createSendfile } from "../../../src/proxy/sendfile/sendfile";

/** uniquePath gives /t/<id>/name: served with root "origin:/t" under the name /<id>/name. */
const ROOT = "origin:/t";
const nameOf = (path: string) => path.slice("/t".length);

/** A fetch that records every URL before using the real one. */
function recordingFetch() {
  const urls: string[] = [];
  const fetchFn = (url: string, init: RequestInit) => {
    urls.push(url);
    return fetch(url, init);
  };
  return { urls, fetch: fetchFn };
}

describe("sendfile from the origin (root origin:<path prefix>)", () => {
  it("serves the named file from ORIGIN_URL + prefix + name, with the origin's validators", async () => {
    const path = uniquePath("o.bin");
    const info = await putFile(path, 50_000, { seed: 9 });
    const { res } = await sendfile({ root: ROOT }, backend({ "x-accel-redirect": nameOf(path) }));
    expect(res.status).toBe(200);
    const body = await bytes(res);
    expect(body.byteLength).toBe(50_000);
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", body));
    expect([...digest].map((b) => b.toString(16).padStart(2, "0")).join("")).toBe(info.sha256);
    expect(res.headers.get("etag")).toBe(info.etag);
    expect(res.headers.get("last-modified")).toBe(info.lastModified);
    expect(res.headers.get("content-length")).toBe("50000");
    expect(res.headers.get("cache-status")).toBe("test-base; fwd=bypass; fwd-status=200; detail=sendfile-origin");
    expect(res.headers.has("x-accel-redirect")).toBe(false);
    expect((await stats(path)).gets).toBe(1);
  });

  it("lets the origin answer Range, 416, If-Range and 304 itself", async () => {
    const path = uniquePath("r.bin");
    const info = await putFile(path, 4000, { seed: 4 });
    const whole = await bytes((await sendfile({ root: ROOT }, backend({ "x-sendfile": nameOf(path) }))).res);

    const single = await sendfile({ root: ROOT, headers: { range: "bytes=-100" } }, backend({ "x-sendfile": nameOf(path) }));
    expect(single.res.status).toBe(206);
    expect(single.res.headers.get("content-range")).toBe("bytes 3900-3999/4000");
    expect(await bytes(single.res)).toEqual(whole.slice(3900));

    // This origin answers several ranges with the whole file (RFC 9110 §14.2 allows it):
    // its answer is passed on as it is, not cut into multipart here.
    const multi = await sendfile({ root: ROOT, headers: { range: "bytes=0-1,10-11" } }, backend({ "x-sendfile": nameOf(path) }));
    expect(multi.res.status).toBe(200);
    expect(await bytes(multi.res)).toEqual(whole);

    const past = await sendfile({ root: ROOT, headers: { range: "bytes=5000-" } }, backend({ "x-sendfile": nameOf(path) }));
    expect(past.res.status).toBe(416);
    await past.res.arrayBuffer();

    const stale = await sendfile({ root: ROOT, headers: { range: "bytes=0-9", "if-range": '"old"' } }, backend({ "x-sendfile": nameOf(path) }));
    expect(stale.res.status).toBe(200);
    expect((await bytes(stale.res)).byteLength).toBe(4000);

    const notModified = await sendfile({ root: ROOT, headers: { "if-none-match": info.etag } }, backend({ "x-sendfile": nameOf(path) }));
    expect(notModified.res.status).toBe(304);
    expect(notModified.res.body).toBeNull();
    expect(notModified.res.headers.get("etag")).toBe(info.etag);
    expect((await stats(path)).conditional304s).toBe(1);
  });

  it("gzips a text file from the origin for a gzip client, and revalidates its weak ETag to a 304", async () => {
    const path = uniquePath("notes.txt");
    const text = "origin text, compressible. ".repeat(400);
    const info = await putBody(path, text);
    const { res } = await sendfile({ root: ROOT, headers: { "accept-encoding": "gzip" } }, backend({ "x-sendfile": nameOf(path) }));
    expect(res.headers.get("content-encoding")).toBe("gzip");
    expect(res.headers.get("vary")).toBe("Accept-Encoding");
    expect(res.headers.get("etag")).toBe(`W/${info.etag}`);
    expect(new TextDecoder().decode(await gunzip(res))).toBe(text);
    const again = await sendfile({ root: ROOT, headers: { "accept-encoding": "gzip", "if-none-match": `W/${info.etag}` } }, backend({ "x-sendfile": nameOf(path) }));
    expect(again.res.status).toBe(304);
    expect(again.res.headers.get("etag")).toBe(`W/${info.etag}`);
    expect(again.res.headers.get("vary")).toBe("Accept-Encoding");
  });

  it("only ever asks the configured origin, under the prefix; refused names ask nobody", async () => {
    const path = uniquePath("here.txt");
    await putBody(path, "here\n");
    const rec = recordingFetch();
    for (const value of [nameOf(path), "//evil.example/x.txt", "/%2F%2Fevil.example/x", "/../etc/passwd", "http://evil.example/x", "/a/..%2f..%2fx"]) {
      const { res } = await sendfile({ root: ROOT, deps: { fetch: rec.fetch } }, backend({ "x-sendfile": value }));
      await res.arrayBuffer();
    }
    expect(rec.urls).toEqual([originUrl + path, `${originUrl}/t/evil.example/x.txt`]);
  });

  it("answers 404 for a missing file and 502 for an origin redirect or error, without following it", async () => {
    const missing = await sendfile({ root: ROOT }, backend({ "x-sendfile": "/no/such/file.bin" }));
    expect(missing.res.status).toBe(404);
    expect(await missing.res.text()).toBe("not found\n");

    const moved = uniquePath("moved.bin");
    await putBody(moved, "x");
    await behave(moved, { status: 302, location: "http://elsewhere.example/x" });
    const before = await totalStats();
    const redirect = await sendfile({ root: ROOT }, backend({ "x-sendfile": nameOf(moved) }));
    expect(redirect.res.status).toBe(502);
    expect(await redirect.res.text()).toBe("origin answered the sendfile target with a redirect (not followed)\n");
    expect(redirect.res.headers.has("location")).toBe(false);
    expect((await totalStats()).gets - before.gets).toBe(1);

    await behave(moved, { status: 500 });
    const failed = await sendfile({ root: ROOT }, backend({ "x-sendfile": nameOf(moved) }));
    expect(failed.res.status).toBe(502);
    expect(failed.res.headers.get("cache-status")).toBe("test-base; fwd=bypass; fwd-status=500; detail=sendfile-origin");
    await failed.res.arrayBuffer();
    await behave(moved, "clear");
  });

  it("answers 504 when the origin is slower than ORIGIN_TIMEOUT_MS, 500 naming ORIGIN_URL when it is not set", async () => {
    const slow = uniquePath("slow.bin");
    await putBody(slow, "late");
    await behave(slow, { delayMs: 2000 });
    const req = new Request("http://base.test/dl");
    const late = await createSendfile({ allow: true, root: ROOT })(req, backend({ "x-sendfile": nameOf(slow) }), { ...baseEnv, ORIGIN_TIMEOUT_MS: "300" });
    expect(late.status).toBe(504);
    expect(await late.text()).toMatch(/^the origin did not answer in time \(request id [\w-]+\)\n$/);
    await behave(slow, "clear");

    const { ORIGIN_URL: _, ...noOrigin } = baseEnv;
    const unset = await createSendfile({ allow: true, root: ROOT })(req, backend({ "x-sendfile": "/x" }), noOrigin);
    expect(unset.status).toBe(500);
    expect(await unset.text()).toMatch(/^invalid config ORIGIN_URL: is required/);
  });
});
