import { describe, expect, it } from "vitest";
import { responseThrottle, throttleResponse } from "../../src/throttle";
import { patternChunks } from "./fake-time";

describe("throttleResponse", () => {
  it("keeps status, status text and headers (Content-Length too) and the exact bytes", async () => {
    const [body] = patternChunks([50_000]);
    const res = new Response(body, { status: 206, statusText: "Partial Content", headers: { "content-length": "50000", "content-range": "bytes 0-49999/90000", etag: '"x"' } });
    // Burst covers the body: no real waiting in this test.
    const out = throttleResponse(res, "V.92", 50_000);
    expect(out).not.toBe(res);
    expect(out.status).toBe(206);
    expect(out.statusText).toBe("Partial Content");
    expect([...out.headers]).toEqual([...res.headers]);
    expect(new Uint8Array(await out.arrayBuffer())).toEqual(body);
  });

  it("holds the body to its Content-Length: short or long, it errors (expectedLength keeps the header on the wire)", async () => {
    const [body] = patternChunks([1000]);
    const short = throttleResponse(new Response(body, { headers: { "content-length": "2000" } }), "1MB/s", 2000);
    await expect(short.arrayBuffer()).rejects.toThrow(/ended after 1000 of 2000 bytes/);
    const long = throttleResponse(new Response(body, { headers: { "content-length": "600" } }), "1MB/s", 2000);
    await expect(long.arrayBuffer()).rejects.toThrow(/longer than its 600 bytes/);
    const exact = throttleResponse(new Response(body, { headers: { "content-length": "1000" } }), "1MB/s", 2000);
    expect((await exact.arrayBuffer()).byteLength).toBe(1000);
    // Without a (usable) Content-Length the body is passed as it is.
    const chunked = throttleResponse(new Response(body, { headers: { "content-length": "1e3" } }), "1MB/s", 2000);
    expect((await chunked.arrayBuffer()).byteLength).toBe(1000);
  });

  it("leaves responses without a body alone", () => {
    for (const res of [new Response(null, { status: 204 }), new Response(null, { status: 304, headers: { etag: '"y"' } })]) {
      expect(throttleResponse(res, "V.92")).toBe(res);
    }
  });

  it("checks the rate once, when configured, with parseRate's reason", () => {
    expect(() => responseThrottle("V.93")).toThrow(/not a modem standard/);
    expect(() => responseThrottle(0)).toThrow(RangeError);
    expect(() => responseThrottle("V.92", -1)).toThrow(/burstBytes/);
    expect(typeof responseThrottle("56kbit")).toBe("function");
  });

  it("really paces: 30 000 bytes at 100 000 B/s after a 10 000 byte burst take at least 150 ms", async () => {
    const [body] = patternChunks([30_000]);
    const dialup = responseThrottle("100000B/s", 10_000);
    const start = Date.now();
    const out = dialup(new Response(body));
    expect(new Uint8Array(await out.arrayBuffer())).toEqual(body);
    expect(Date.now() - start).toBeGreaterThanOrEqual(150); // ideal 200 ms
  });
});
