// The guard over bodies joined from several stored chunks (store/chunk-stream.ts). Such a
// body is a FixedLengthStream already, which this workerd cannot pipe into the guard's own
// one: the guard must pass it on and learn its end from the join. Real node, real limiter
// (its count read from the Durable Object), real origin; CHUNK_SIZE is 1 MiB here.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { putFile, referenceBytes, uniquePath } from "../support/origin";
import { eventually, nodeFetch, streamSha256 } from "../support/node";
import { fetchWithVars } from "../support/app";
import { metaKey } from "../../src/store/layout";
import { metaFromRecord } from "../../src/store/meta";

const MiB = 1024 * 1024;
const limiter = (env as unknown as Env).CONCURRENCY;
const store = (env as unknown as Env).STORE;
/** Slots held in the limiter of one client (an IPv4 address) and path, as the guard names it. */
const active = (ip: string, path: string) => limiter.get(limiter.idFromName(`${ip} ${path}`)).active();

/** Index of the first differing byte, -1 when equal (a readable failure for MiB-sized bodies). */
function firstDiff(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.byteLength, b.byteLength);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.byteLength === b.byteLength ? -1 : n;
}
const bodyOf = async (res: Response) => new Uint8Array(await res.arrayBuffer());

// Five chunks, the last one short; every range below crosses at least one boundary.
const SIZE = 4 * MiB + 517;
const SEED = 11;
const START = MiB - 100;
const END = 3 * MiB + 99;

describe("guard over a range joined from several chunks", () => {
  const path = uniquePath("joined.bin");
  let ref: Uint8Array;

  beforeAll(async () => {
    await putFile(path, SIZE, { seed: SEED });
    ref = await referenceBytes(SIZE, SEED);
    // Stored (cold fill read to its end): every request below is served from the copy.
    expect((await streamSha256(await nodeFetch(path, { ip: "192.0.2.200" }))).bytes).toBe(SIZE);
    await eventually(async () => metaFromRecord((await store.head(metaKey(path)))?.customMetadata));
  });

  it("delivers the exact bytes with Content-Length, holding the slot until the last byte", async () => {
    const ip = "198.51.100.80";
    const res = await nodeFetch(path, { ip, headers: { range: `bytes=${START}-${END}` } });
    expect(res.status).toBe(206);
    expect(res.headers.get("cache-status")).not.toContain("detail=fill");
    expect(res.headers.get("content-length")).toBe(String(END - START + 1));
    // Nothing read yet: the download is in flight and counted.
    expect(await active(ip, path)).toBe(1);
    expect(firstDiff(await bodyOf(res), ref.subarray(START, END + 1))).toBe(-1);
    await eventually(async () => (await active(ip, path)) === 0);
  });

  it("a whole multi-chunk file arrives intact and frees its slot", async () => {
    const ip = "198.51.100.81";
    const res = await nodeFetch(path, { ip });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-length")).toBe(String(SIZE));
    expect(firstDiff(await bodyOf(res), ref)).toBe(-1);
    await eventually(async () => (await active(ip, path)) === 0);
  });

  it("a client that leaves mid-body frees its slot, and a third download gets it", async () => {
    const ip = "198.51.100.82";
    const [a, b] = await Promise.all([0, 1].map(() => nodeFetch(path, { ip, headers: { range: `bytes=${START}-${END}` } })));
    expect([a!.status, b!.status]).toEqual([206, 206]);
    const refused = await nodeFetch(path, { ip });
    expect(refused.status).toBe(503);
    await refused.text();

    const reader = a!.body!.getReader();
    await reader.read();
    await reader.cancel();
    await eventually(async () => (await active(ip, path)) === 1);
    const c = await nodeFetch(path, { ip, headers: { range: `bytes=${START}-${END}` } });
    expect(c.status).toBe(206);
    expect(firstDiff(await bodyOf(c), ref.subarray(START, END + 1))).toBe(-1);
    await b!.body!.cancel();
    await eventually(async () => (await active(ip, path)) === 0);
  });

  it("paced by THROTTLE, the joined range still arrives exactly and frees its slot", async () => {
    const ip = "198.51.100.83";
    const res = await fetchWithVars({ THROTTLE: "200MB/s" }, path, { ip, headers: { range: `bytes=${START}-${END}` } });
    expect(res.status).toBe(206);
    expect(res.headers.get("content-length")).toBe(String(END - START + 1));
    expect(await active(ip, path)).toBe(1);
    expect(firstDiff(await bodyOf(res), ref.subarray(START, END + 1))).toBe(-1);
    await eventually(async () => (await active(ip, path)) === 0);
  });
});
