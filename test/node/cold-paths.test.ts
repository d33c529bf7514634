// Cold requests (a version not stored here) that the origin's HEAD answers alone, and cold
// requests that find the version stored meanwhile (issue #12 review). A fill that never
// started is proven on the origin's counters and on the version's FillCoordinator, whose
// storage stays empty until somebody joins.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { FillCoordinator } from "../../src/fill/coordinator";
import { CacheTier } from "../../src/store/cache-tier";
import { metaKey } from "../../src/store/layout";
import { metaFromRecord, versionOf } from "../../src/store/meta";
import { fetchWithVars } from "../support/app";
import { behave, putFile, stats, uniquePath, type FileInfo } from "../support/origin";
import { eventually, nodeFetch, readBody, streamSha256 } from "../support/node";

const fills = (env as unknown as { FILLS: DurableObjectNamespace<FillCoordinator> }).FILLS;
const bucket = (env as unknown as Env).STORE;
const MiB = 1024 * 1024;
const SIZE = 2 * MiB + 10;
const MTIME = 1_700_200_000;

/** Whether anybody joined the fill of `file`'s version at `path` (its coordinator stored anything). */
async function fillJoined(path: string, file: FileInfo): Promise<boolean> {
  const version = await versionOf({ etag: file.etag, lastModified: file.lastModified, length: file.size, contentType: null, cacheControl: null });
  const stub = fills.get(fills.idFromName(`${path}\n${version}`));
  return runInDurableObject(stub, async (_o, state) => (await state.storage.list()).size > 0);
}

interface ColdCase {
  name: string;
  method: "GET" | "HEAD";
  headers: (f: FileInfo) => Record<string, string>;
  status: number;
  /** Further checks of the answer's headers. */
  expectHeaders?: (h: Headers, f: FileInfo) => void;
}

const httpDate = (ms: number) => new Date(ms).toUTCString();
const lastModifiedMs = (f: FileInfo) => Date.parse(f.lastModified);

const CASES: ColdCase[] = [
  {
    name: "HEAD",
    method: "HEAD",
    headers: () => ({}),
    status: 200,
    expectHeaders: (h, f) => {
      expect(h.get("content-length")).toBe(String(SIZE));
      expect(h.get("etag")).toBe(f.etag);
      expect(h.get("accept-ranges")).toBe("bytes");
    },
  },
  {
    // As a stored copy answers it (and nginx): 206 with the part's length.
    name: "HEAD with a Range",
    method: "HEAD",
    headers: () => ({ range: "bytes=1-2" }),
    status: 206,
    expectHeaders: (h) => {
      expect(h.get("content-range")).toBe(`bytes 1-2/${SIZE}`);
      expect(h.get("content-length")).toBe("2");
    },
  },
  { name: "HEAD with a matching If-None-Match", method: "HEAD", headers: (f) => ({ "if-none-match": f.etag }), status: 304 },
  { name: "HEAD with a failing If-Match", method: "HEAD", headers: () => ({ "if-match": '"other"' }), status: 412 },
  {
    name: "GET with a failing If-Match",
    method: "GET",
    headers: () => ({ "if-match": '"other"' }),
    status: 412,
    expectHeaders: (h) => expect(h.get("etag")).toBeNull(),
  },
  {
    name: "GET with a failing If-Unmodified-Since",
    method: "GET",
    headers: (f) => ({ "if-unmodified-since": httpDate(lastModifiedMs(f) - 1000) }),
    status: 412,
  },
  {
    // RFC 9110 §13.2.2: If-Match is evaluated first.
    name: "GET with a failing If-Match and a matching If-None-Match",
    method: "GET",
    headers: (f) => ({ "if-match": '"other"', "if-none-match": f.etag }),
    status: 412,
  },
  {
    name: "GET with a matching If-None-Match",
    method: "GET",
    headers: (f) => ({ "if-none-match": `"x", ${f.etag}` }),
    status: 304,
    expectHeaders: (h, f) => {
      expect(h.get("etag")).toBe(f.etag);
      expect(h.get("content-type")).toBeNull();
    },
  },
  { name: "GET with If-Modified-Since at Last-Modified", method: "GET", headers: (f) => ({ "if-modified-since": f.lastModified }), status: 304 },
  {
    name: "GET with an unsatisfiable Range",
    method: "GET",
    headers: () => ({ range: `bytes=${SIZE}-` }),
    status: 416,
    expectHeaders: (h) => expect(h.get("content-range")).toBe(`bytes */${SIZE}`),
  },
  {
    name: "GET with an unsatisfiable Range and a matching If-Range",
    method: "GET",
    headers: (f) => ({ range: `bytes=${SIZE + 5}-${SIZE + 9}`, "if-range": f.etag }),
    status: 416,
  },
];

describe("cold requests answered from the origin's HEAD alone: no fill, no origin body", () => {
  let ip = 1;
  for (const c of CASES) {
    it(`${c.name}: ${c.status}`, async () => {
      const path = uniquePath("cold-answer.bin");
      const file = await putFile(path, SIZE, { seed: 71, mtime: MTIME });
      const res = await nodeFetch(path, { method: c.method, headers: c.headers(file), ip: `198.51.100.${100 + ip++}` });
      expect(res.status).toBe(c.status);
      expect(res.headers.get("cache-status")).toBe("test-node; fwd=miss; fwd-status=200");
      c.expectHeaders?.(res.headers, file);
      const body = await readBody(res);
      expect(body.complete).toBe(true);
      if (c.method === "HEAD" || c.status === 304) expect(body.bytes).toBe(0);

      expect(await fillJoined(path, file)).toBe(false);
      expect(await stats(path)).toMatchObject({ heads: 1, gets: 0, bodyBytes: 0 });
      expect(await bucket.head(metaKey(path))).toBeNull();
    });
  }

  it("the control: a GET whose If-Range does not match ignores the unsatisfiable Range, joins the fill and gets the whole file", async () => {
    const path = uniquePath("cold-answer.bin");
    const file = await putFile(path, SIZE, { seed: 71, mtime: MTIME });
    const res = await nodeFetch(path, { headers: { range: `bytes=${SIZE}-`, "if-range": '"other"' }, ip: "198.51.100.99" });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-status")).toMatch(/fwd=miss; fwd-status=200; stored; detail=fill/);
    expect(await streamSha256(res)).toEqual({ sha256: file.sha256, bytes: SIZE });
    expect(await fillJoined(path, file)).toBe(true);
    expect((await stats(path)).gets).toBe(1);
  });
});

describe("a cold request that finds the version stored", () => {
  it("another node stored it during our HEAD: served from R2 with no origin body, and this colo learns the pointer", async () => {
    const path = uniquePath("stored-meanwhile.bin");
    const file = await putFile(path, SIZE, { seed: 72 });
    const colo = new CacheTier(caches.default);

    // Our HEAD waits at the origin (our lookup found nothing) while another node fills the file.
    await behave(path, { delayMs: 4000 });
    const ours = fetchWithVars({ ORIGIN_TIMEOUT_MS: "20000" }, path, { ip: "198.51.100.81" });
    await eventually(async () => (await stats(path)).heads === 1);
    await behave(path, "clear");
    // The other node has no Cache API of ours: another colo, as far as this one can tell.
    const other = await fetchWithVars({ CACHE_API_MAX_BYTES: "0" }, path, { ip: "198.51.100.82" });
    expect(await streamSha256(other)).toEqual({ sha256: file.sha256, bytes: SIZE });
    const meta = await eventually(async () => metaFromRecord((await bucket.head(metaKey(path)))?.customMetadata) ?? undefined);
    expect(await colo.pointer(path)).toBeNull();

    const res = await ours;
    // If this says detail=fill, the other node's fill outlasted our HEAD's delay: the setup failed, not the node.
    expect(res.headers.get("cache-status")).toBe("test-node; fwd=miss; fwd-status=200; collapsed; detail=r2");
    expect(await streamSha256(res)).toEqual({ sha256: file.sha256, bytes: SIZE });
    expect((await stats(path)).gets).toBe(1);

    const pointer = await eventually(async () => (await colo.pointer(path)) ?? undefined);
    expect(pointer.meta).toMatchObject({ version: meta.version, fill: meta.fill });
  });
});
