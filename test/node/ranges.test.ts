import { beforeAll, describe, expect, it } from "vitest";
import { fetchWithVars } from "../support/app";
import { putBody, putFile, uniquePath, type FileInfo } from "../support/origin";
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

  it("coalesces nearby ranges into one part (unlike nginx), 200 when they add up to more than the file", async () => {
    // RFC 9110 §15.3.7.2: ranges closer than a part header's overhead are served as one;
    // multipart answers are checked on a larger file below.
    const res = await get({ range: "bytes=0-1,5-6" });
    expect(res.status).toBe(206);
    expect(res.headers.get("content-range")).toBe("bytes 0-6/36");
    expect(res.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(await res.text()).toBe("0123456");
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

describe("many ranges (issue #11 M3): coalesced, capped at MAX_RANGES, read in order", () => {
  const SIZE = 200_000;
  let big = "";
  let whole = new Uint8Array(0);
  const getBig = (range: string, method = "GET") => nodeFetch(big, { headers: { range }, method, ip: `203.0.113.${(ipCounter++ % 250) + 1}` });

  beforeAll(async () => {
    big = uniquePath("many-ranges.bin");
    await putFile(big, SIZE);
    whole = new Uint8Array(await (await nodeFetch(big, { ip: "203.0.113.251" })).arrayBuffer());
    expect(whole.byteLength).toBe(SIZE);
  });

  it("answers 1,000 far-apart ranges with 200 and the whole file, not 1,000 parts", async () => {
    const header = "bytes=" + Array.from({ length: 1000 }, (_, i) => `${i * 199}-${i * 199}`).join(",");
    const res = await getBig(header);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-length")).toBe(String(SIZE));
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(whole);
    const head = await getBig(header, "HEAD");
    expect(head.status).toBe(200);
  });

  it("coalesces 1,000 one-byte ranges that lie close together into one part", async () => {
    const header = "bytes=" + Array.from({ length: 1000 }, (_, i) => `${i * 2}-${i * 2}`).join(",");
    const res = await getBig(header);
    expect(res.status).toBe(206);
    expect(res.headers.get("content-range")).toBe(`bytes 0-1998/${SIZE}`);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(whole.slice(0, 1999));
  });

  it("serves up to MAX_RANGES parts as multipart, in request order, byte for byte", async () => {
    // Ascending parts (one read, gaps skipped), one going backwards (a second read), one overlap.
    const asked: Array<[number, number]> = [[10, 19], [500, 599], [100_000, 100_099], [300, 309], [505, 700], [199_990, 199_999]];
    const res = await getBig("bytes=" + asked.map(([a, b]) => `${a}-${b}`).join(","));
    expect(res.status).toBe(206);
    const boundary = /boundary=(\S+)/.exec(res.headers.get("content-type") ?? "")?.[1];
    const body = new Uint8Array(await res.arrayBuffer());
    expect(Number(res.headers.get("content-length"))).toBe(body.byteLength);
    // [500,599] and [505,700] coalesce into [500,700], in the place of the first.
    const parts: Array<[number, number]> = [[10, 19], [500, 700], [100_000, 100_099], [300, 309], [199_990, 199_999]];
    const enc = (s: string) => new TextEncoder().encode(s);
    const expected: Uint8Array[] = [];
    for (const [a, b] of parts) {
      expected.push(enc(`\r\n--${boundary}\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes ${a}-${b}/${SIZE}\r\n\r\n`), whole.slice(a, b + 1));
    }
    expected.push(enc(`\r\n--${boundary}--\r\n`));
    const flat = new Uint8Array(expected.reduce((n, p) => n + p.byteLength, 0));
    expected.reduce((at, p) => (flat.set(p, at), at + p.byteLength), 0);
    expect(body).toEqual(flat);
  });

  it("takes MAX_RANGES from the configuration", async () => {
    const header = "bytes=0-0,1000-1000,2000-2000";
    const capped = await fetchWithVars({ MAX_RANGES: "2" }, big, { headers: { range: header } });
    expect(capped.status).toBe(200);
    await capped.arrayBuffer();
    const allowed = await fetchWithVars({ MAX_RANGES: "3" }, big, { headers: { range: header } });
    expect(allowed.status).toBe(206);
    expect(allowed.headers.get("content-type")).toMatch(/^multipart\/byteranges/);
    await allowed.arrayBuffer();
    const bad = await fetchWithVars({ MAX_RANGES: "0" }, big);
    expect(bad.status).toBe(500);
    expect(await bad.text()).toMatch(/MAX_RANGES/);
  });
});
