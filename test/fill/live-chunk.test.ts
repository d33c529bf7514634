// A chunk read while its filler receives it: what its readers see before and after the
// filler says the chunk is stored (end) or lost (fail).
import { describe, expect, it } from "vitest";
import { LiveChunk } from "../../src/fill/live-chunk";

const bytes = (n: number) => Uint8Array.from({ length: n }, (_, i) => i & 0xff);

/** Reads until the stream ends or fails; `got` counts what arrived either way. */
async function drain(from: ReadableStream<Uint8Array> | ReadableStreamDefaultReader<Uint8Array>): Promise<{ got: number; error: string | null }> {
  const reader = from instanceof ReadableStream ? from.getReader() : from;
  let got = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { got, error: null };
      got += value.byteLength;
    }
  } catch (e) {
    return { got, error: (e as Error).message };
  }
}

/** Reads `n` bytes (fewer if the stream ends); the reader is left open for the rest. */
async function readSome(reader: ReadableStreamDefaultReader<Uint8Array>, n: number): Promise<number> {
  let got = 0;
  while (got < n) {
    const { done, value } = await reader.read();
    if (done) break;
    got += value.byteLength;
  }
  return got;
}

/** True when `p` has not settled after the event loop had a turn with nothing else to do. */
async function stillPending(p: Promise<unknown>): Promise<boolean> {
  return Promise.race([p.then(() => false), new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 20))]);
}

describe("LiveChunk", () => {
  it("a chunk that is not the file's last: readers get every byte as it arrives, before end()", async () => {
    const c = new LiveChunk(bytes(10), false);
    c.filledTo(6);
    c.filledTo(10);
    expect(await drain(c.read(0, 10, 5000))).toEqual({ got: 10, error: null });
    expect(await drain(c.read(3, 7, 5000))).toEqual({ got: 4, error: null });
  });

  it("the file's last chunk keeps its final byte until end(): a reader never completes before the fill is accepted", async () => {
    const c = new LiveChunk(bytes(10), true);
    c.filledTo(10);
    const reader = c.read(0, 10, 5000).getReader();
    expect(await readSome(reader, 9)).toBe(9);
    // A range that stops before the final byte is not held back.
    expect(await drain(c.read(2, 9, 5000))).toEqual({ got: 7, error: null });
    const rest = drain(reader);
    expect(await stillPending(rest)).toBe(true);
    c.end();
    expect(await rest).toEqual({ got: 1, error: null });
  });

  it("the file's last chunk refused (digest mismatch, discarded fill): the reader fails without its final byte", async () => {
    const c = new LiveChunk(bytes(10), true);
    c.filledTo(10);
    const reader = c.read(0, 10, 5000).getReader();
    expect(await readSome(reader, 9)).toBe(9);
    const rest = drain(reader);
    expect(await stillPending(rest)).toBe(true);
    c.fail(new Error("refused"));
    expect(await rest).toEqual({ got: 0, error: "refused" });
  });

  it("a failure after end() is not the readers': the chunk is stored and whole", async () => {
    const c = new LiveChunk(bytes(4), true);
    c.filledTo(4);
    c.end();
    c.fail(new Error("a later chunk failed"));
    expect(await drain(c.read(0, 4, 5000))).toEqual({ got: 4, error: null });
  });

  it("a filler that goes silent (its request ended) fails the chunk after the stall time, so its readers resume elsewhere", async () => {
    const c = new LiveChunk(bytes(10), false);
    c.filledTo(3);
    expect(await drain(c.read(0, 10, 200))).toEqual({ got: 3, error: "no bytes of the chunk for 0.2 s" });
    // The chunk is failed for every reader: a later one sees it at once.
    expect(await drain(c.read(0, 10, 60_000))).toEqual({ got: 0, error: "no bytes of the chunk for 0.2 s" });
  });

  it("once stored, a reader more than 1 MiB behind goes on from the store (no chunk buffer kept for a slow client)", async () => {
    const size = 3 * 1024 * 1024;
    const c = new LiveChunk(bytes(size), false);
    c.filledTo(size);
    c.end();
    expect(await drain(c.read(0, size, 5000))).toEqual({ got: 0, error: "the chunk is stored now; read the rest from the store" });
    // Near its end, it finishes from memory.
    expect(await drain(c.read(size - 1000, size, 5000))).toEqual({ got: 1000, error: null });
  });

  it("a chunk that ends short is an error, not a short body", async () => {
    const c = new LiveChunk(bytes(10), false);
    c.filledTo(5);
    c.end();
    expect(await drain(c.read(0, 10, 5000))).toEqual({ got: 5, error: "chunk ended short" });
  });
});
