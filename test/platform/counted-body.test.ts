// platform/counted-body.ts over real workerd streams: native and JavaScript sources, read to
// the end, abandoned part way, bodiless, empty, without a length, and already watched.
import { describe, expect, it } from "vitest";
import { countedBody } from "../../src/platform/counted-body";
import { generatedBody } from "../support/streams";

const KiB = 1024;

/** A JavaScript stream (default type: no BYOB reader) of `length` bytes in 10 000-byte chunks. */
const jsBody = (length: number) => generatedBody(length, { piece: 10_000, fill: 7 });

/** A native byte stream (workerd's own, as R2, the Cache API and fetch give) of `length` bytes. */
function nativeBody(length: number): ReadableStream<Uint8Array> {
  return new Response(new Uint8Array(length).fill(7)).body!;
}

const answer = (body: ReadableStream<Uint8Array> | string | null, length?: number) =>
  new Response(body, { headers: length === undefined ? {} : { "content-length": String(length) } });

describe("countedBody", () => {
  for (const [name, make] of [["a native body", nativeBody], ["a JavaScript body", jsBody]] as const) {
    it(`counts ${name} read to its end, and keeps its Content-Length`, async () => {
      const size = 1_000_003;
      const counted = countedBody(answer(make(size), size), "GET");
      expect(counted.declared).toBe(size);
      expect(counted.res.headers.get("content-length")).toBe(String(size));
      expect((await counted.res.arrayBuffer()).byteLength).toBe(size);
      expect(await counted.sent).toBe(size);
    });

    it(`counts ${name} abandoned part way as nothing (one part, whole or nothing), never its length`, async () => {
      const size = 4 * 1024 * KiB;
      const counted = countedBody(answer(make(size), size), "GET");
      const reader = counted.res.body!.getReader();
      let read = 0;
      while (read < 300 * KiB) read += (await reader.read()).value!.byteLength;
      await reader.cancel();
      expect(await counted.sent).toBe(0);
    });
  }

  it("counts a body without a length as it streams (no Content-Length invented)", async () => {
    const counted = countedBody(answer(jsBody(200_000)), "GET");
    expect(counted.declared).toBeNull();
    expect(counted.res.headers.get("content-length")).toBeNull();
    expect((await counted.res.arrayBuffer()).byteLength).toBe(200_000);
    expect(await counted.sent).toBe(200_000);
  });

  it("counts a HEAD, a bodiless answer and an empty body as 0, and small bodies by their length, unwrapped and at once", async () => {
    // Known at once: a plain number, not a promise, so the recorder can count them now.
    const head = answer(jsBody(100_000), 100_000);
    const counted = countedBody(head, "HEAD");
    expect(counted.res).toBe(head);
    expect(counted.sent).toBe(0);
    expect(countedBody(new Response(null, { status: 304 }), "GET").sent).toBe(0);
    expect(countedBody(answer("", 0), "GET").sent).toBe(0);
    const small = answer("x".repeat(1000), 1000);
    const tiny = countedBody(small, "GET");
    expect(tiny.res).toBe(small);
    expect(tiny.sent).toBe(1000);
    // Up to 64 KiB with a length; one byte more gets the counting stage and a promise.
    expect(countedBody(answer(jsBody(64 * KiB), 64 * KiB), "GET").sent).toBe(64 * KiB);
    const big = countedBody(answer(jsBody(64 * KiB + 1), 64 * KiB + 1), "GET");
    expect(big.sent).toBeInstanceOf(Promise);
    await big.res.body!.cancel();
    expect(await big.sent).toBe(0);
  });

  it("leaves a content-coded body as it is, counted by its Content-Length", async () => {
    const gz = new Response(jsBody(100_000), { headers: { "content-length": "100000", "content-encoding": "gzip" } });
    const counted = countedBody(gz, "GET");
    expect(counted.res).toBe(gz);
    expect(counted.sent).toBe(100_000);
    await gz.body!.cancel();
  });

  it("stops counting where a source fails, and fails the body the client reads", async () => {
    let sent = 0;
    const failing = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent >= 100_000) return c.error(new Error("origin went away"));
        sent += 50_000;
        c.enqueue(new Uint8Array(50_000));
      },
    });
    const counted = countedBody(answer(failing, 1_000_000), "GET");
    await expect(counted.res.arrayBuffer()).rejects.toThrow();
    expect(await counted.sent).toBe(0);
    // Without a length it is pumped and counted exactly.
    sent = 0;
    const unsized = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent >= 100_000) return c.error(new Error("origin went away"));
        sent += 50_000;
        c.enqueue(new Uint8Array(50_000));
      },
    });
    const pumped = countedBody(answer(unsized), "GET");
    await expect(pumped.res.arrayBuffer()).rejects.toThrow();
    expect(await pumped.sent).toBe(100_000);
  });

  it("a body whose progress is already known (a chunk join, the guard's lease) gets no second stage", async () => {
    const size = 1_000_003;
    const first = countedBody(answer(nativeBody(size), size), "GET");
    const again = countedBody(first.res, "GET");
    expect(again.res).toBe(first.res);
    expect((await again.res.arrayBuffer()).byteLength).toBe(size);
    expect(await again.sent).toBe(size);
  });
});
