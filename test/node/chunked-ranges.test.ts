// Byte ranges over the chunked store (issue #12): a range is stitched from the chunks it
// covers, so every off-by-one at a chunk boundary shows up as a wrong byte here. Checked on
// a stored copy and on a version still being filled (followers waiting at the live edge).
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { metaKey } from "../../src/store/layout";
import { metaFromRecord } from "../../src/store/meta";
import { behave, putFile, referenceBytes, stats, uniquePath } from "../support/origin";
import { eventually, nodeFetch, streamSha256 } from "../support/node";

const store = (env as unknown as Env).STORE;
const MiB = 1024 * 1024;
/** CHUNK_SIZE of the workerd test project (vitest.config.ts). */
const CHUNK = MiB;

interface Got {
  status: number;
  headers: Headers;
  bytes: Uint8Array;
}

async function get(path: string, range: string, ip = "198.51.100.20"): Promise<Got> {
  const res = await nodeFetch(path, { headers: { range }, ip });
  return { status: res.status, headers: res.headers, bytes: new Uint8Array(await res.arrayBuffer()) };
}

/** Index of the first differing byte, -1 when equal (a readable failure for MiB-sized bodies). */
function firstDiff(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.byteLength, b.byteLength);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.byteLength === b.byteLength ? -1 : n;
}

/** A 206 with one part: status, Content-Range and every byte against the reference. */
function expectPart(got: Got, ref: Uint8Array, start: number, end: number, label: string): void {
  expect(got.status, label).toBe(206);
  expect(got.headers.get("content-range"), label).toBe(`bytes ${start}-${end}/${ref.byteLength}`);
  expect(firstDiff(got.bytes, ref.subarray(start, end + 1)), label).toBe(-1);
}

/** Parts of a multipart/byteranges body (RFC 9110 §14.6), read by their Content-Range lengths. */
function parseMultipart(contentType: string, body: Uint8Array): Array<{ start: number; end: number; total: number; bytes: Uint8Array }> {
  const boundary = /boundary=("?)([^";]+)\1/.exec(contentType)?.[2];
  if (!boundary) throw new Error(`no boundary in ${contentType}`);
  const text = new TextDecoder("latin1");
  const parts: Array<{ start: number; end: number; total: number; bytes: Uint8Array }> = [];
  let at = 0;
  for (;;) {
    const delimiter = text.decode(body.subarray(at, at + boundary.length + 6));
    const open = delimiter.indexOf(`--${boundary}`);
    if (open < 0) throw new Error(`no delimiter at ${at}`);
    at += open + boundary.length + 2;
    if (text.decode(body.subarray(at, at + 2)) === "--") return parts;
    const headEnd = text.decode(body.subarray(at, at + 1024)).indexOf("\r\n\r\n");
    const head = text.decode(body.subarray(at, at + headEnd));
    const m = /content-range: bytes (\d+)-(\d+)\/(\d+)/i.exec(head);
    if (!m) throw new Error(`part without Content-Range: ${head}`);
    const [start, end, total] = [Number(m[1]), Number(m[2]), Number(m[3])];
    at += headEnd + 4;
    parts.push({ start, end, total, bytes: body.subarray(at, at + end - start + 1) });
    at += end - start + 1;
  }
}

/** Every requested range must be served, byte for byte, by some part (parts may be coalesced). */
function expectMultipart(got: Got, ref: Uint8Array, ranges: Array<[number, number]>, label: string): void {
  expect(got.status, label).toBe(206);
  const type = got.headers.get("content-type") ?? "";
  expect(type, label).toMatch(/^multipart\/byteranges/);
  expect(Number(got.headers.get("content-length")), label).toBe(got.bytes.byteLength);
  const parts = parseMultipart(type, got.bytes);
  expect(parts.length, label).toBeGreaterThan(1);
  for (const p of parts) {
    expect(p.total, label).toBe(ref.byteLength);
    expect(firstDiff(p.bytes, ref.subarray(p.start, p.end + 1)), `${label} part ${p.start}-${p.end}`).toBe(-1);
  }
  for (const [s, e] of ranges) expect(parts.some((p) => p.start <= s && e <= p.end), `${label}: ${s}-${e} served`).toBe(true);
}

/** Ranges that start or end one before, at, and one after each chunk boundary of a `size`-byte file. */
function boundaryRanges(size: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let b = CHUNK; b < size; b += CHUNK) {
    for (const d of [-1, 0, 1]) {
      for (const e of [-1, 0, 1]) if (b + d <= b + e) out.push([b + d, b + e]);
      out.push([0, b + d]);
      out.push([b + d, size - 1]);
      // Across the next boundary too (three chunks when both ends sit just outside).
      if (b + CHUNK + d < size) out.push([b - 1 + d, b + CHUNK + d]);
    }
  }
  return out;
}

/** Suffix lengths around chunk multiples, including the whole file and more (RFC 9110 §14.1.2). */
function suffixLengths(size: number): number[] {
  const tail = size % CHUNK;
  return [1, tail - 1, tail, tail + 1, CHUNK - 1, CHUNK, CHUNK + 1, tail + CHUNK, tail + CHUNK + 1, size - 1, size, size + 10].filter((n) => n > 0);
}

describe("ranges across chunk boundaries: a stored chunked copy", () => {
  // Five chunks, the last one short.
  const size = 4 * MiB + 517;
  const seed = 7;
  const path = uniquePath("stored-ranges.bin");
  let ref: Uint8Array;

  beforeAll(async () => {
    await putFile(path, size, { seed });
    ref = await referenceBytes(size, seed);
    expect((await streamSha256(await nodeFetch(path))).bytes).toBe(size);
    const meta = await eventually(async () => metaFromRecord((await store.head(metaKey(path)))?.customMetadata));
    // The point of this file: the copy is really chunked at CHUNK bytes.
    expect(meta).toMatchObject({ length: size, chunkSize: CHUNK });
  });

  it("single ranges starting and ending one before, at and one after every boundary", async () => {
    for (const [s, e] of boundaryRanges(size)) expectPart(await get(path, `bytes=${s}-${e}`), ref, s, e, `bytes=${s}-${e}`);
    // Open-ended ranges from each side of a boundary.
    for (const s of [CHUNK - 1, CHUNK, CHUNK + 1, 4 * CHUNK, size - 1]) expectPart(await get(path, `bytes=${s}-`), ref, s, size - 1, `bytes=${s}-`);
  });

  it("suffix ranges around chunk multiples", async () => {
    for (const n of suffixLengths(size)) {
      const start = Math.max(0, size - n);
      expectPart(await get(path, `bytes=-${n}`), ref, start, size - 1, `bytes=-${n}`);
    }
  });

  it("any single range (fast-check)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(size - 1), fc.nat(3 * CHUNK), async (start, length) => {
        const end = Math.min(size - 1, start + length);
        expectPart(await get(path, `bytes=${start}-${end}`), ref, start, end, `bytes=${start}-${end}`);
      }),
      { numRuns: 40 },
    );
  });

  it("multi-range answers (multipart/byteranges) with parts in several chunks", async () => {
    const cases: Array<Array<[number, number]>> = [
      [[0, 0], [CHUNK - 1, CHUNK], [2 * CHUNK + 5, 3 * CHUNK + 5], [size - 2, size - 1]],
      // Out of order, each part across a boundary.
      [[3 * CHUNK - 10, 3 * CHUNK + 10], [CHUNK - 10, CHUNK + 10], [4 * CHUNK - 1, 4 * CHUNK]],
      // One part covering three chunks, one tiny part after it.
      [[CHUNK / 2, 3 * CHUNK + CHUNK / 2], [4 * CHUNK + 100, 4 * CHUNK + 200]],
    ];
    for (const ranges of cases) {
      const header = `bytes=${ranges.map(([s, e]) => `${s}-${e}`).join(",")}`;
      expectMultipart(await get(path, header), ref, ranges, header);
    }
    // A suffix part among others.
    const mixed = await get(path, `bytes=10-20,${2 * CHUNK - 3}-${2 * CHUNK + 3},-600`);
    expectMultipart(mixed, ref, [[10, 20], [2 * CHUNK - 3, 2 * CHUNK + 3], [size - 600, size - 1]], "with a suffix part");
  });

  it("served without another origin body", async () => {
    const s = await stats(path);
    expect(s.gets).toBe(1);
    expect(s.bodyBytes).toBe(size);
  });
});

describe("ranges across chunk boundaries: followers while the version is being filled", () => {
  it("every range asked during the fill gets exactly the origin's bytes, and the origin sends one body", async () => {
    const size = 5 * MiB + 333;
    const seed = 11;
    const path = uniquePath("filling-ranges.bin");
    const file = await putFile(path, size, { seed });
    const ref = await referenceBytes(size, seed);
    // Slow enough that every follower below arrives mid-fill and waits at the live edge.
    await behave(path, { bytesPerSecond: 3 * MiB });

    const first = await nodeFetch(path, { ip: "203.0.113.1" });
    expect(first.headers.get("cache-status")).toMatch(/stored/);
    const firstBody = streamSha256(first);

    const singles: Array<[number, number]> = [
      ...[CHUNK, 2 * CHUNK, 3 * CHUNK, 4 * CHUNK, 5 * CHUNK].flatMap((b): Array<[number, number]> => [[b - 1, b], [b, b + 1], [b - 1, b + 1]]),
      [CHUNK - 1, 3 * CHUNK + 1],
      ...fc.sample(fc.tuple(fc.nat(size - 1), fc.nat(2 * CHUNK)), 8).map(([s, n]): [number, number] => [s, Math.min(size - 1, s + n)]),
    ];
    const suffixes = [1, 333, 334, CHUNK + 333, 3 * CHUNK];
    const multi: Array<[number, number]> = [[5, 10], [2 * CHUNK - 2, 2 * CHUNK + 2], [size - 10, size - 1]];
    let ip = 10;
    const next = () => `203.0.113.${ip++}`;
    const [singleGot, suffixGot, multiGot] = await Promise.all([
      Promise.all(singles.map(([s, e]) => get(path, `bytes=${s}-${e}`, next()))),
      Promise.all(suffixes.map((n) => get(path, `bytes=-${n}`, next()))),
      get(path, `bytes=${multi.map(([s, e]) => `${s}-${e}`).join(",")}`, next()),
    ]);

    singles.forEach(([s, e], i) => expectPart(singleGot[i]!, ref, s, e, `during fill bytes=${s}-${e}`));
    suffixes.forEach((n, i) => expectPart(suffixGot[i]!, ref, size - n, size - 1, `during fill bytes=-${n}`));
    expectMultipart(multiGot, ref, multi, "during fill, multipart");
    // Followers joined the fill; none of them fetched anything itself.
    for (const g of [...singleGot, ...suffixGot, multiGot]) expect(g.headers.get("cache-status")).toMatch(/collapsed/);

    expect((await firstBody).sha256).toBe(file.sha256);
    const s = await stats(path);
    expect(s.gets).toBe(1);
    expect(s.rangeGets).toBe(0);
    expect(s.bodyBytes).toBe(size);
  });
});
