// platform/batched-reader.ts over real workerd streams: a native byte stream fed in 4 KiB
// writes (as a fetch body arrives) comes out in pieces of at least the asked size, every
// byte in order; the first read can ask for one byte; a JavaScript stream falls back to
// its own pieces; cancel reaches the source.
import { describe, expect, it } from "vitest";
import { batchedReader } from "../../src/platform/batched-reader";
import { generatedBody } from "../support/streams";

const KiB = 1024;

/** A native byte stream written in `piece`-byte writes of the pattern i % 251. */
function trickled(length: number, piece: number): ReadableStream<Uint8Array> {
  const pipe = new IdentityTransformStream();
  const writer = pipe.writable.getWriter();
  void (async () => {
    for (let at = 0; at < length; at += piece) {
      const n = Math.min(piece, length - at);
      await writer.write(Uint8Array.from({ length: n }, (_, i) => (at + i) % 251));
    }
    await writer.close();
  })();
  return pipe.readable as ReadableStream<Uint8Array>;
}

async function readAll(body: ReadableStream<Uint8Array>, first: number, min: number): Promise<{ sizes: number[]; bytes: Uint8Array }> {
  const reader = batchedReader(body, 256 * KiB);
  const parts: Uint8Array[] = [];
  for (let piece = await reader.read(first); piece !== null; piece = await reader.read(min)) parts.push(piece.slice());
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.byteLength;
  }
  return { sizes: parts.map((p) => p.byteLength), bytes };
}

const inOrder = (bytes: Uint8Array) => bytes.every((b, i) => b === i % 251);

describe("batchedReader", () => {
  it("reads a native stream written 4 KiB at a time in pieces of at least the size asked", async () => {
    const length = 1_000_000;
    const { sizes, bytes } = await readAll(trickled(length, 4 * KiB), 64 * KiB, 64 * KiB);
    expect(bytes.byteLength).toBe(length);
    expect(inOrder(bytes)).toBe(true);
    // Every piece but the last holds a whole batch: 16 or fewer reads, not 245.
    expect(sizes.slice(0, -1).every((n) => n >= 64 * KiB)).toBe(true);
    expect(sizes.length).toBeLessThanOrEqual(Math.ceil(length / (64 * KiB)));
  });

  it("hands out the first byte without waiting for a batch", async () => {
    const pipe = new IdentityTransformStream();
    const writer = pipe.writable.getWriter();
    const reader = batchedReader(pipe.readable as ReadableStream<Uint8Array>, 256 * KiB);
    const first = reader.read(1);
    await writer.write(new Uint8Array([1, 2, 3]));
    expect([...(await first)!]).toEqual([1, 2, 3]);
    const next = reader.read(64 * KiB);
    await writer.write(new Uint8Array([4]));
    await writer.close();
    // A body that ends before the batch is full still gives its last bytes, then null.
    expect([...(await next)!]).toEqual([4]);
    expect(await reader.read(64 * KiB)).toBeNull();
  });

  it("falls back to a JavaScript stream's own pieces", async () => {
    const length = 100_003;
    const { sizes, bytes } = await readAll(generatedBody(length, { piece: 10_000, fill: 7 }), 1, 64 * KiB);
    expect(bytes.byteLength).toBe(length);
    expect(bytes.every((b) => b === 7)).toBe(true);
    expect(sizes[0]).toBe(10_000);
  });

  it("cancel stops the source", async () => {
    const pipe = new IdentityTransformStream();
    const writer = pipe.writable.getWriter();
    const reader = batchedReader(pipe.readable as ReadableStream<Uint8Array>, 64 * KiB);
    const first = reader.read(1);
    await writer.write(new Uint8Array(1024));
    expect((await first)!.byteLength).toBe(1024);
    await reader.cancel("gone");
    // The writing side learns that nobody reads any more.
    await expect(writer.write(new Uint8Array(1))).rejects.toThrow();
  });
});
