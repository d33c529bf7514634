import { describe, expect, it } from "vitest";
import { acceptsGzip } from "../../../src/proxy/sendfile/compress";
import { isCompressibleType } from "../../../src/proxy/sendfile/content-type";
import { backend, bytes, gunzip, pattern, seed, sendfile, uniquePrefix } from "./support";

const CSS = new TextEncoder().encode("body { color: #123456; margin: 0 auto; }\n".repeat(500));

async function layout() {
  const prefix = uniquePrefix("gz");
  const css = await seed(`${prefix}/site.css`, CSS);
  const json = await seed(`${prefix}/data.json`, JSON.stringify({ items: Array.from({ length: 300 }, (_, i) => ({ i, name: `item-${i}` })) }));
  const svg = await seed(`${prefix}/logo.svg`, `<svg xmlns="http://www.w3.org/2000/svg">${"<rect/>".repeat(200)}</svg>`);
  await seed(`${prefix}/photo.png`, pattern(20_000));
  return { root: `r2:${prefix}`, css, json, svg };
}

describe("sendfile: gzip for compressible types", () => {
  it("gzips a 200 of a text type for a client that accepts gzip: weak ETag, Vary, no Content-Length, same bytes once decoded", async () => {
    const { root, css } = await layout();
    const { res } = await sendfile({ root, headers: { "accept-encoding": "br, gzip;q=0.8" } }, backend({ "x-sendfile": "/site.css" }));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-encoding")).toBe("gzip");
    expect(res.headers.get("vary")).toBe("Accept-Encoding");
    expect(res.headers.get("etag")).toBe(`W/${css.httpEtag}`);
    expect(res.headers.has("content-length")).toBe(false);
    expect(res.headers.has("accept-ranges")).toBe(false);
    expect(res.headers.get("content-type")).toBe("text/css; charset=utf-8");
    const plain = await gunzip(res);
    expect(plain).toEqual(CSS);
  });

  it("gzips JSON and SVG too", async () => {
    const { root, json, svg } = await layout();
    for (const [name, object] of [["/data.json", json], ["/logo.svg", svg]] as const) {
      const { res } = await sendfile({ root, headers: { "accept-encoding": "gzip" } }, backend({ "x-accel-redirect": name }));
      expect(res.headers.get("content-encoding"), name).toBe("gzip");
      expect((await gunzip(res)).byteLength).toBe(object.size);
    }
  });

  it("answers a HEAD like the GET it stands for, and a 304 with the weak ETag the client holds", async () => {
    const { root, css } = await layout();
    const head = await sendfile({ root, method: "HEAD", headers: { "accept-encoding": "gzip" } }, backend({ "x-sendfile": "/site.css" }, null));
    expect(head.res.headers.get("content-encoding")).toBe("gzip");
    expect(head.res.headers.get("etag")).toBe(`W/${css.httpEtag}`);
    expect(head.res.headers.has("content-length")).toBe(false);
    expect(head.res.body).toBeNull();
    const revalidate = await sendfile({ root, headers: { "accept-encoding": "gzip", "if-none-match": `W/${css.httpEtag}` } }, backend({ "x-sendfile": "/site.css" }));
    expect(revalidate.res.status).toBe(304);
    expect(revalidate.res.headers.get("etag")).toBe(`W/${css.httpEtag}`);
    expect(revalidate.res.headers.get("vary")).toBe("Accept-Encoding");
    expect(revalidate.res.headers.has("content-encoding")).toBe(false);
  });

  it("never compresses a Range request (206, multipart, or the 200 a stale If-Range gets), but still says Vary", async () => {
    const { root, css } = await layout();
    const ae = { "accept-encoding": "gzip" };
    const single = await sendfile({ root, headers: { ...ae, range: "bytes=0-99" } }, backend({ "x-sendfile": "/site.css" }));
    expect(single.res.status).toBe(206);
    expect(single.res.headers.has("content-encoding")).toBe(false);
    expect(single.res.headers.get("vary")).toBe("Accept-Encoding");
    expect(single.res.headers.get("etag")).toBe(css.httpEtag);
    expect(await bytes(single.res)).toEqual(CSS.slice(0, 100));
    const multi = await sendfile({ root, headers: { ...ae, range: "bytes=0-9,20-29" } }, backend({ "x-sendfile": "/site.css" }));
    expect(multi.res.status).toBe(206);
    expect(multi.res.headers.has("content-encoding")).toBe(false);
    await multi.res.arrayBuffer();
    const stale = await sendfile({ root, headers: { ...ae, range: "bytes=0-9", "if-range": '"old"' } }, backend({ "x-sendfile": "/site.css" }));
    expect(stale.res.status).toBe(200);
    expect(stale.res.headers.has("content-encoding")).toBe(false);
    expect(await bytes(stale.res)).toEqual(CSS);
  });

  it("does not compress images (no Vary either), nor for clients that do not accept gzip (Vary all the same)", async () => {
    const { root, css } = await layout();
    const png = await sendfile({ root, headers: { "accept-encoding": "gzip, br" } }, backend({ "x-sendfile": "/photo.png" }));
    expect(png.res.headers.has("content-encoding")).toBe(false);
    expect(png.res.headers.has("vary")).toBe(false);
    expect(png.res.headers.get("content-length")).toBe("20000");
    expect(await bytes(png.res)).toEqual(pattern(20_000));
    for (const accept of [null, "identity", "br", "gzip;q=0", "*;q=0", "br, gzip;q=0, *"]) {
      const { res } = await sendfile({ root, headers: accept === null ? {} : { "accept-encoding": accept } }, backend({ "x-sendfile": "/site.css" }));
      expect(res.headers.has("content-encoding"), String(accept)).toBe(false);
      expect(res.headers.get("vary")).toBe("Accept-Encoding");
      expect(res.headers.get("etag")).toBe(css.httpEtag);
      expect(res.headers.get("content-length")).toBe(String(CSS.byteLength));
      await res.arrayBuffer();
    }
  });

  it("respects Cache-Control: no-transform from the backend", async () => {
    const { root } = await layout();
    const { res } = await sendfile({ root, headers: { "accept-encoding": "gzip" } }, backend({ "x-sendfile": "/site.css", "cache-control": "public, no-transform" }));
    expect(res.headers.has("content-encoding")).toBe(false);
    expect(await bytes(res)).toEqual(CSS);
  });

  it("reads Accept-Encoding as RFC 9110 §12.5.3 says", () => {
    const yes = ["gzip", "GZIP", "x-gzip", "br, gzip", "gzip;q=0.001", "gzip; q=1.0", "*", "br, *;q=0.5", "deflate, gzip;q=1"];
    const no = ["", "identity", "br", "gzip;q=0", "gzip;q=0.000", "*;q=0", "gzip;q=0, *", "gzip;q=2", "gzip;q=abc", "gzipx"];
    for (const v of yes) expect(acceptsGzip(v), v).toBe(true);
    for (const v of no) expect(acceptsGzip(v), v).toBe(false);
    expect(acceptsGzip(null)).toBe(false);
  });

  it("knows which types compress", () => {
    for (const t of ["text/plain", "text/css; charset=utf-8", "application/json", "application/javascript", "application/xml", "image/svg+xml", "application/ld+json", "application/atom+xml", "application/wasm"]) {
      expect(isCompressibleType(t), t).toBe(true);
    }
    for (const t of [null, "image/png", "image/jpeg", "video/mp4", "application/zip", "application/gzip", "application/octet-stream", "font/woff2"]) {
      expect(isCompressibleType(t), String(t)).toBe(false);
    }
  });
});
