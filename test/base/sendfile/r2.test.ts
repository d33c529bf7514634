import { describe, expect, it } from "vitest";
import { r2Copy } from "../../../src/proxy/sendfile/r2-file";
import { backend, bytes, latin1, pattern, seed, sendfile, store, uniquePrefix } from "./support";

describe("sendfile from R2 (root r2:<prefix>)", () => {
  it("serves the file named by X-Sendfile and by X-Accel-Redirect, byte for byte, with its validators", async () => {
    const prefix = uniquePrefix("files");
    const data = pattern(70_000);
    const object = await seed(`${prefix}/a/b.bin`, data);
    for (const header of ["x-sendfile", "X-Accel-Redirect"]) {
      const { res } = await sendfile({ root: `r2:${prefix}` }, backend({ [header]: "/a/b.bin", "x-accel-buffering": "no" }));
      expect(res.status, header).toBe(200);
      expect(await bytes(res)).toEqual(data);
      expect(res.headers.get("etag")).toBe(object.httpEtag);
      expect(res.headers.get("last-modified")).toBe(object.uploaded.toUTCString());
      expect(res.headers.get("content-length")).toBe("70000");
      expect(res.headers.get("content-type")).toBe("application/octet-stream");
      expect(res.headers.get("accept-ranges")).toBe("bytes");
      expect(res.headers.get("cache-status")).toBe("test-base; fwd=bypass; detail=sendfile-r2");
      for (const control of ["x-sendfile", "x-accel-redirect", "x-accel-buffering"]) expect(res.headers.has(control)).toBe(false);
    }
  });

  it("takes the type from R2 metadata, else the extension, else application/octet-stream", async () => {
    const prefix = uniquePrefix("types");
    await seed(`${prefix}/doc`, "x", { httpMetadata: { contentType: "application/pdf" } });
    await seed(`${prefix}/pic.png`, "x");
    await seed(`${prefix}/blob`, "x");
    const cases: Array<[string, string]> = [["/doc", "application/pdf"], ["/pic.png", "image/png"], ["/blob", "application/octet-stream"]];
    for (const [name, type] of cases) {
      const { res } = await sendfile({ root: `r2:${prefix}/` }, backend({ "x-sendfile": name }));
      expect(res.headers.get("content-type"), name).toBe(type);
      await res.arrayBuffer();
    }
  });

  it("cancels the backend's body unread and keeps its Set-Cookie, Content-Disposition and Cache-Control, not its type or status", async () => {
    const prefix = uniquePrefix("keep");
    await seed(`${prefix}/report.pdf`, "%PDF-1.7 tiny\n");
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      pull: (c) => c.enqueue(new TextEncoder().encode("<html>never sent</html>")),
      cancel: () => void (cancelled = true),
    });
    const upstream = new Response(body, { status: 201, headers: { "x-sendfile": "/report.pdf", "content-type": "text/html; charset=UTF-8", "content-disposition": 'attachment; filename="r.pdf"', "cache-control": "private, max-age=60", server: "php" } });
    upstream.headers.append("set-cookie", "a=1; Path=/");
    upstream.headers.append("set-cookie", "b=2; Path=/");
    const { res } = await sendfile({ root: `r2:${prefix}` }, upstream);
    expect(cancelled).toBe(true);
    expect(res.status).toBe(200);
    expect(new TextDecoder().decode(await bytes(res))).toBe("%PDF-1.7 tiny\n");
    expect(res.headers.get("content-type")).toBe("application/pdf");
    expect(res.headers.get("content-disposition")).toBe('attachment; filename="r.pdf"');
    expect(res.headers.get("cache-control")).toBe("private, max-age=60");
    expect(res.headers.getSetCookie()).toEqual(["a=1; Path=/", "b=2; Path=/"]);
    expect(res.headers.has("server")).toBe(false);
  });

  it("answers 304 to If-None-Match / If-Modified-Since and 412 to If-Match", async () => {
    const prefix = uniquePrefix("cond");
    const object = await seed(`${prefix}/c.bin`, pattern(1000));
    const root = `r2:${prefix}`;
    const lm = object.uploaded.toUTCString();
    const inm = await sendfile({ root, headers: { "if-none-match": object.httpEtag } }, backend({ "x-sendfile": "/c.bin" }));
    expect(inm.res.status).toBe(304);
    expect(inm.res.body).toBeNull();
    expect(inm.res.headers.get("etag")).toBe(object.httpEtag);
    expect(inm.res.headers.has("content-type")).toBe(false);
    const ims = await sendfile({ root, headers: { "if-modified-since": lm } }, backend({ "x-accel-redirect": "/c.bin" }));
    expect(ims.res.status).toBe(304);
    const older = await sendfile({ root, headers: { "if-modified-since": new Date(object.uploaded.getTime() - 60_000).toUTCString() } }, backend({ "x-sendfile": "/c.bin" }));
    expect(older.res.status).toBe(200);
    expect((await bytes(older.res)).byteLength).toBe(1000);
    const other = await sendfile({ root, headers: { "if-none-match": '"other"' } }, backend({ "x-sendfile": "/c.bin" }));
    expect(other.res.status).toBe(200);
    await other.res.arrayBuffer();
    const ifMatch = await sendfile({ root, headers: { "if-match": '"other"' } }, backend({ "x-sendfile": "/c.bin" }));
    expect(ifMatch.res.status).toBe(412);
    expect(await ifMatch.res.text()).toMatch(/^precondition failed.*\n$/);
  });

  it("serves single, open-ended and suffix ranges as 206, and 416 past the end", async () => {
    const prefix = uniquePrefix("range");
    const data = pattern(10_000);
    await seed(`${prefix}/r.bin`, data);
    const cases: Array<[string, number, number]> = [["bytes=100-199", 100, 199], ["bytes=9990-", 9990, 9999], ["bytes=-300", 9700, 9999], ["bytes=9000-99999", 9000, 9999]];
    for (const [range, start, end] of cases) {
      const { res } = await sendfile({ root: `r2:${prefix}`, headers: { range } }, backend({ "x-sendfile": "/r.bin" }));
      expect(res.status, range).toBe(206);
      expect(res.headers.get("content-range")).toBe(`bytes ${start}-${end}/10000`);
      expect(res.headers.get("content-length")).toBe(String(end - start + 1));
      expect(await bytes(res)).toEqual(data.slice(start, end + 1));
    }
    const { res } = await sendfile({ root: `r2:${prefix}`, headers: { range: "bytes=10000-" } }, backend({ "x-sendfile": "/r.bin" }));
    expect(res.status).toBe(416);
    expect(res.headers.get("content-range")).toBe("bytes */10000");
    expect(await res.text()).toBe("range not satisfiable: the file is 10000 bytes\n");
  });

  it("serves several ranges as multipart/byteranges, exactly framed", async () => {
    const prefix = uniquePrefix("multi");
    const data = pattern(5000);
    await seed(`${prefix}/m.bin`, data);
    const { res } = await sendfile({ root: `r2:${prefix}`, headers: { range: "bytes=0-9,4990-" } }, backend({ "x-accel-redirect": "/m.bin" }));
    expect(res.status).toBe(206);
    const type = res.headers.get("content-type")!;
    const boundary = /^multipart\/byteranges; boundary=(\d{20})$/.exec(type)?.[1];
    expect(boundary).toBeDefined();
    const part = (s: number, e: number) => `\r\n--${boundary}\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes ${s}-${e}/5000\r\n\r\n` + latin1(data.slice(s, e + 1));
    const expected = part(0, 9) + part(4990, 4999) + `\r\n--${boundary}--\r\n`;
    const body = await bytes(res);
    expect(latin1(body)).toBe(expected);
    expect(res.headers.get("content-length")).toBe(String(body.byteLength));
  });

  it("honours If-Range: a matching ETag gets the range, a stale one the whole file", async () => {
    const prefix = uniquePrefix("ifrange");
    const data = pattern(2000);
    const object = await seed(`${prefix}/i.bin`, data);
    const root = `r2:${prefix}`;
    const same = await sendfile({ root, headers: { range: "bytes=0-99", "if-range": object.httpEtag } }, backend({ "x-sendfile": "/i.bin" }));
    expect(same.res.status).toBe(206);
    expect(await bytes(same.res)).toEqual(data.slice(0, 100));
    const stale = await sendfile({ root, headers: { range: "bytes=0-99", "if-range": '"old"' } }, backend({ "x-sendfile": "/i.bin" }));
    expect(stale.res.status).toBe(200);
    expect(await bytes(stale.res)).toEqual(data);
    const date = await sendfile({ root, headers: { range: "bytes=0-99", "if-range": object.uploaded.toUTCString() } }, backend({ "x-sendfile": "/i.bin" }));
    expect(date.res.status).toBe(206);
    await date.res.arrayBuffer();
  });

  it("answers HEAD without a body, and a POST that reached the backend as a GET of the file", async () => {
    const prefix = uniquePrefix("head");
    await seed(`${prefix}/h.bin`, pattern(300));
    const head = await sendfile({ root: `r2:${prefix}`, method: "HEAD" }, backend({ "x-sendfile": "/h.bin" }, null));
    expect(head.res.status).toBe(200);
    expect(head.res.headers.get("content-length")).toBe("300");
    expect(head.res.body).toBeNull();
    const post = await sendfile({ root: `r2:${prefix}`, method: "POST" }, backend({ "x-sendfile": "/h.bin" }));
    expect(post.res.status).toBe(200);
    expect((await bytes(post.res)).byteLength).toBe(300);
  });

  it("answers 404 in one plain line when the object is missing", async () => {
    const { res } = await sendfile({ root: `r2:${uniquePrefix("none")}` }, backend({ "x-sendfile": "/missing.bin" }));
    expect(res.status).toBe(404);
    expect(await res.text()).toBe("not found\n");
  });

  it("decodes the name to the object's key, and adds Repr-Digest when R2 holds a SHA-256", async () => {
    const prefix = uniquePrefix("names");
    const text = new TextEncoder().encode("spaced out\n");
    const sha = await crypto.subtle.digest("SHA-256", text);
    await seed(`${prefix}/a b/ü.txt`, text, { sha256: sha });
    const { res } = await sendfile({ root: `r2:${prefix}` }, backend({ "x-accel-redirect": "/a%20b/%C3%BC.txt" }));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("spaced out\n");
    const b64 = btoa(String.fromCharCode(...new Uint8Array(sha)));
    expect(res.headers.get("repr-digest")).toBe(`sha-256=:${b64}:`);
  });

  it("sends bytes stored with a content coding as they are, labelled, and never encodes them again", async () => {
    const prefix = uniquePrefix("pre");
    const gz = new Uint8Array(await new Response(new Blob(["hello gzip\n".repeat(20)]).stream().pipeThrough(new CompressionStream("gzip"))).arrayBuffer());
    await seed(`${prefix}/app.js`, gz, { httpMetadata: { contentType: "text/javascript", contentEncoding: "gzip" } });
    const { res } = await sendfile({ root: `r2:${prefix}`, headers: { "accept-encoding": "gzip" } }, backend({ "x-sendfile": "/app.js" }));
    expect(res.headers.get("content-encoding")).toBe("gzip");
    expect(res.headers.get("content-length")).toBe(String(gz.byteLength));
    expect(res.headers.get("etag")!.startsWith("W/")).toBe(false);
    expect(await bytes(res)).toEqual(gz);
  });

  it("pins every read to the version first seen: a replaced object yields no bytes of the new one", async () => {
    const key = `${uniquePrefix("pin")}/p.bin`;
    await seed(key, pattern(1000, 1));
    const copy = r2Copy(store, key, (await store.head(key))!);
    await seed(key, pattern(1000, 2));
    expect(await copy.body.full()).toBeNull();
    expect(await copy.body.range({ start: 0, end: 9 })).toBeNull();
    const fresh = r2Copy(store, key, (await store.head(key))!);
    expect(new Uint8Array(await new Response(await fresh.body.range({ start: 0, end: 9 })).arrayBuffer())).toEqual(pattern(1000, 2).slice(0, 10));
  });
});
