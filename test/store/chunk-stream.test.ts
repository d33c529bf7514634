// chunkedRange on its own, in workerd's real streams: chunk bodies are byte streams made
// here (pieces of odd sizes), so every boundary, length rule and early end can be forced.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { chunkedRange, type ReadChunk } from "../../src/store/chunk-stream";
import { progressOf } from "../../src/platform/body-progress";

const joinedEnd = (body: ReadableStream<Uint8Array>) => progressOf(body)?.ended;
import { eventually } from "../support/node";

const CHUNK = 1000;
const SIZE = 4 * CHUNK + 37;
const file = Uint8Array.from({ length: SIZE }, (_, i) => (i * 7 + (i >> 8)) & 255);

/** A byte stream of `bytes` in pieces of at most `piece` bytes. */
function streamOf(bytes: Uint8Array, piece = 333): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream<Uint8Array>({
    pull(c) {
      if (at >= bytes.byteLength) return c.close();
      c.enqueue(bytes.slice(at, at + piece));
      at += piece;
    },
  });
}

/** Reads chunks of `file`, with per-index overrides; records what was opened and cancelled. */
function reader(over: Record<number, (from: number, to: number) => Promise<ReadableStream<Uint8Array> | null>> = {}) {
  const opened: number[] = [];
  const read: ReadChunk = async (i, from, to) => {
    opened.push(i);
    const custom = over[i];
    return custom ? custom(from, to) : streamOf(file.subarray(i * CHUNK + from, i * CHUNK + to));
  };
  return { read, opened };
}

async function all(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

describe("chunkedRange", () => {
  it("joins any range across chunks byte for byte, and its end is known", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: SIZE - 1 }), fc.integer({ min: 0, max: SIZE - 1 }), async (a, b) => {
        const range = { start: Math.min(a, b), end: Math.max(a, b) };
        const body = await chunkedRange(CHUNK, range, reader().read);
        const got = await all(body!);
        expect(got).toEqual(file.subarray(range.start, range.end + 1));
        if (Math.floor(range.start / CHUNK) !== Math.floor(range.end / CHUNK)) {
          await joinedEnd(body!);
          // Every part was taken whole: the count is the range's length.
          expect(progressOf(body!)!.taken()).toBe(range.end - range.start + 1);
        }
      }),
      { numRuns: 60 },
    );
  });

  it("passes a range inside one chunk on as that chunk's own stream, not a join", async () => {
    const own = streamOf(file.subarray(10, 20));
    const body = await chunkedRange(CHUNK, { start: 10, end: 19 }, async () => own);
    expect(body).toBe(own);
    expect(joinedEnd(own)).toBeUndefined();
  });

  it("returns null when the first chunk is missing, and errors the body at a later gap", async () => {
    expect(await chunkedRange(CHUNK, { start: 0, end: SIZE - 1 }, reader({ 0: async () => null }).read)).toBeNull();
    let cancelled = 0;
    const body = await chunkedRange(CHUNK, { start: 0, end: SIZE - 1 }, reader({ 2: async () => null }).read, () => cancelled++);
    await expect(all(body!)).rejects.toThrow();
    await expect(joinedEnd(body!)).rejects.toThrow(/chunk 2 is missing/);
    expect(cancelled).toBe(1);
  });

  it("never hands out a body of the wrong length: a chunk too long or too short errors it", async () => {
    const long = reader({ 1: async () => streamOf(file.subarray(CHUNK, 2 * CHUNK + 1)) });
    await expect(all((await chunkedRange(CHUNK, { start: 0, end: SIZE - 1 }, long.read))!)).rejects.toThrow();
    const short = reader({ 3: async () => streamOf(file.subarray(3 * CHUNK, 4 * CHUNK - 1)) });
    await expect(all((await chunkedRange(CHUNK, { start: 0, end: SIZE - 1 }, short.read))!)).rejects.toThrow();
  });

  it("reads a chunk that is itself a join (another fill's geometry) without a native pipe between them", async () => {
    // Chunk 1 read through a reader of 300-byte chunks: a joined stream inside the join.
    const small: ReadChunk = (i, from, to) => chunkedRange(300, { start: CHUNK + from, end: CHUNK + to - 1 }, async (j, f, t) => streamOf(file.subarray(j * 300 + f, j * 300 + t)));
    const nested = reader({ 1: (from, to) => small(1, from, to) });
    const body = await chunkedRange(CHUNK, { start: 500, end: 2500 }, nested.read);
    expect(await all(body!)).toEqual(file.subarray(500, 2501));
  });

  it("reads the next chunk only after the client took the one before", async () => {
    const r = reader();
    const body = (await chunkedRange(CHUNK, { start: 0, end: SIZE - 1 }, r.read))!;
    const rd = body.getReader();
    await rd.read();
    // Pieces of chunk 0 are still to be read: chunk 1 is not opened yet.
    expect(r.opened).toEqual([0]);
    while (!(await rd.read()).done);
    expect(r.opened).toEqual([0, 1, 2, 3, 4]);
  });

  it("a client gone while the next chunk is awaited (a fill's live edge) stops the join when it comes", async () => {
    let arrive: (s: ReadableStream<Uint8Array>) => void = () => {};
    let lateCancelled = false;
    const late = new ReadableStream<Uint8Array>({
      pull: (c) => c.enqueue(file.slice(CHUNK, CHUNK + 100)),
      cancel: () => void (lateCancelled = true),
    });
    const r = reader({ 1: () => new Promise((resolve) => (arrive = resolve)) });
    let stopped = 0;
    const body = (await chunkedRange(CHUNK, { start: 0, end: SIZE - 1 }, r.read, () => stopped++))!;
    const rd = body.getReader();
    for (let got = 0; got < CHUNK; ) got += (await rd.read()).value!.byteLength;
    await eventually(async () => r.opened.includes(1));
    await rd.cancel(new Error("client gone"));
    arrive(late);
    await expect(joinedEnd(body)).rejects.toThrow();
    // The client took chunk 0 whole and left while chunk 1 was awaited: only chunk 0 counts.
    expect(progressOf(body)!.taken()).toBe(CHUNK);
    expect(stopped).toBe(1);
    expect(lateCancelled).toBe(true);
    expect(r.opened).toEqual([0, 1]);
  });
});
