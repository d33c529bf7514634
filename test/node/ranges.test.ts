import { beforeAll, describe, expect, it } from "vitest";
import { putBody, uniquePath, type FileInfo } from "../support/origin";
import { nodeFetch } from "../support/node";

const TEXT = "0123456789abcdefghijklmnopqrstuvwxyz"; // 36 bytes
let path = "";
let file: FileInfo;
let ipCounter = 0;
// A fresh client address per request, so the download guard never interferes here.
const get = (headers: Record<string, string> = {}, method = "GET") => nodeFetch(path, { headers, method, ip: `203.0.113.${(ipCounter++ % 250) + 1}` });

describe("ranges and conditionals on a stored copy (RFC 9110 §13-14, as nginx)", () => {
  beforeAll(async () => {
    path = uniquePath("range.txt");
    file = await putBody(path, TEXT, 1_700_000_000);
    await (await get()).arrayBuffer();
  });

  it("serves single, open-ended and suffix ranges", async () => {
    for (const [range, body, cr] of [
      ["bytes=0-4", "01234", "bytes 0-4/36"],
      ["bytes=30-", "uvwxyz", "bytes 30-35/36"],
      ["bytes=-3", "xyz", "bytes 33-35/36"],
      ["bytes=34-100", "yz", "bytes 34-35/36"],
    ] as const) {
      const res = await get({ range });
      expect(res.status, range).toBe(206);
      expect(res.headers.get("content-range")).toBe(cr);
      expect(res.headers.get("content-length")).toBe(String(body.length));
      expect(res.headers.get("cache-status")).not.toContain("fwd=miss");
      expect(await res.text()).toBe(body);
    }
  });

  it("answers 416 with bytes */len when nothing is satisfiable, and ignores non-byte units", async () => {
    const res = await get({ range: "bytes=36-" });
    expect(res.status).toBe(416);
    expect(res.headers.get("content-range")).toBe("bytes */36");
    await res.text();
    const bad = await get({ range: "bytes=abc" });
    expect(bad.status).toBe(416); // nginx refuses a malformed bytes range
    await bad.text();
    const other = await get({ range: "items=0-4" });
    expect(other.status).toBe(200);
    expect(await other.text()).toBe(TEXT);
  });

  it("sends multipart/byteranges for several ranges, 200 when they add up to more than the file", async () => {
    const res = await get({ range: "bytes=0-1,5-6" });
    expect(res.status).toBe(206);
    const type = res.headers.get("content-type") ?? "";
    const boundary = /boundary=(\S+)/.exec(type)?.[1];
    expect(type).toMatch(/^multipart\/byteranges; boundary=/);
    const body = await res.text();
    expect(Number(res.headers.get("content-length"))).toBe(new TextEncoder().encode(body).byteLength);
    expect(body).toBe(
      `\r\n--${boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Range: bytes 0-1/36\r\n\r\n01` +
        `\r\n--${boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Range: bytes 5-6/36\r\n\r\n56` +
        `\r\n--${boundary}--\r\n`,
    );
    const over = await get({ range: "bytes=0-30,10-35" });
    expect(over.status).toBe(200);
    expect(await over.text()).toBe(TEXT);
  });

  it("honours If-Range with the ETag or the exact date, else sends the whole file", async () => {
    const byEtag = await get({ range: "bytes=0-1", "if-range": file.etag });
    expect(byEtag.status).toBe(206);
    await byEtag.text();
    const byDate = await get({ range: "bytes=0-1", "if-range": file.lastModified });
    expect(byDate.status).toBe(206);
    await byDate.text();
    const stale = await get({ range: "bytes=0-1", "if-range": '"old-etag"' });
    expect(stale.status).toBe(200);
    expect(await stale.text()).toBe(TEXT);
  });

  it("answers If-None-Match and If-Modified-Since with 304, If-Match mismatch with 412", async () => {
    const inm = await get({ "if-none-match": file.etag });
    expect(inm.status).toBe(304);
    expect(inm.headers.get("etag")).toBe(file.etag);
    expect(await inm.text()).toBe("");
    const ims = await get({ "if-modified-since": file.lastModified });
    expect(ims.status).toBe(304);
    const changed = await get({ "if-modified-since": "Sat, 01 Jan 2000 00:00:00 GMT" });
    expect(changed.status).toBe(200);
    await changed.text();
    const im = await get({ "if-match": '"nope"' });
    expect(im.status).toBe(412);
    await im.text();
  });

  it("HEAD carries the GET headers and no body", async () => {
    const res = await get({}, "HEAD");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-length")).toBe("36");
    expect(res.headers.get("etag")).toBe(file.etag);
    expect(res.headers.get("accept-ranges")).toBe("bytes");
    expect(await res.text()).toBe("");
    const ranged = await get({ range: "bytes=1-2" }, "HEAD");
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get("content-range")).toBe("bytes 1-2/36");
  });
});
