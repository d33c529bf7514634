// Slice fills and resumed fills (issue #12): what the origin is asked for, measured on the
// real origin's request log, and what ends up stored in R2.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { FillCoordinator } from "../../src/fill/coordinator";
import { sha256DigestField } from "../../src/http/digest";
import { metaKey } from "../../src/store/layout";
import { metaFromRecord, versionOf, type StoredMeta } from "../../src/store/meta";
import { behave, fileInfo, putFile, recentRequests, referenceBytes, stats, uniquePath, type FileInfo } from "../support/origin";
import { alarmAt } from "../fill/clock";
import { eventually, nodeFetch, sha256Hex, streamSha256 } from "../support/node";

const store = (env as unknown as Env).STORE;
const fills = (env as unknown as { FILLS: DurableObjectNamespace<FillCoordinator> }).FILLS;
const MiB = 1024 * 1024;
/** CHUNK_SIZE of the workerd test project (vitest.config.ts). */
const CHUNK = MiB;

async function storedMeta(path: string): Promise<StoredMeta | null> {
  return metaFromRecord((await store.head(metaKey(path)))?.customMetadata);
}

/** R2 keys under `prefix` ("chunk/", "manifest/", "data/") that belong to `path`. */
async function keysOf(prefix: string, path: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.list({ prefix, cursor });
    keys.push(...page.objects.map((o) => o.key).filter((k) => k.endsWith(path)));
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return keys;
}

/** R2 chunk objects of `path`, as chunk indexes (any version or fill). */
async function storedChunks(path: string): Promise<number[]> {
  return (await keysOf("chunk/", path)).map((k) => Number(/^chunk\/[^/]+\/(\d+)\//.exec(k)![1])).sort((a, b) => a - b);
}

/** The version name a file's validators give (part of every chunk and manifest key). */
function versionOfFile(f: FileInfo): Promise<string> {
  return versionOf({ etag: f.etag, lastModified: f.lastModified, length: f.size, contentType: null, cacheControl: null });
}

/** The origin's log of body GETs for `path`, oldest first. */
async function originGets(path: string): Promise<Array<{ range: string | null; ifRange: string | null; bodyBytes: number }>> {
  const recent = (await recentRequests()) as Array<{ method: string; path: string; range: string | null; ifRange: string | null; bodyBytes: number }>;
  return recent.filter((r) => r.path === path && r.method === "GET");
}

/**
 * Reads a body to its end; `complete` is false when the stream errors (a truncated answer).
 * Not streamSha256: its digest promise would reject unobserved when the body errors.
 */
async function drain(res: Response): Promise<{ complete: boolean; bytes: number; sha256: string | null }> {
  const digest = new crypto.DigestStream("SHA-256");
  digest.digest.catch(() => {});
  const writer = digest.getWriter();
  const reader = res.body!.getReader();
  let bytes = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
      await writer.write(value);
    }
  } catch {
    await writer.abort().catch(() => {});
    return { complete: false, bytes, sha256: null };
  }
  await writer.close();
  return { complete: true, bytes, sha256: [...new Uint8Array(await digest.digest)].map((b) => b.toString(16).padStart(2, "0")).join("") };
}

describe("slice fills: a cold range fetches only the chunks it covers", () => {
  it("the last MiB of a 40 MiB file costs one Range GET of at most two chunks; a full GET later fills the rest and the hash pass completes the copy", async () => {
    const size = 40 * MiB + 12_345;
    const seed = 3;
    const path = uniquePath("big-slice.iso");
    const file = await putFile(path, size, { seed });
    const tail = { start: size - MiB, end: size - 1 };

    const res = await nodeFetch(path, { headers: { range: "bytes=-1048576" } });
    expect(res.status).toBe(206);
    expect(res.headers.get("content-range")).toBe(`bytes ${tail.start}-${tail.end}/${size}`);
    expect(res.headers.get("cache-status")).toMatch(/fwd=miss.*stored/);
    const got = new Uint8Array(await res.arrayBuffer());
    expect(await sha256Hex(got)).toBe(await sha256Hex(await referenceBytes(size, seed, tail)));

    // One origin GET: exactly the chunks the range touches (39 and 40), guarded by If-Range.
    const firstChunk = Math.floor(tail.start / CHUNK);
    expect(firstChunk).toBe(39);
    let gets = await originGets(path);
    expect(gets).toHaveLength(1);
    expect(gets[0]).toMatchObject({ range: `bytes=${firstChunk * CHUNK}-${size - 1}`, ifRange: file.etag });
    const afterSlice = await stats(path);
    expect(afterSlice.gets).toBe(1);
    expect(afterSlice.bodyBytes).toBe(size - firstChunk * CHUNK);
    expect(afterSlice.bodyBytes).toBeLessThanOrEqual(2 * CHUNK);
    // Those chunks are stored, but the version is partial: no pointer makes it visible.
    await eventually(async () => (await storedChunks(path)).join() === "39,40");
    expect(await storedMeta(path)).toBeNull();

    // A full GET fills chunks 0..38 with one more origin request and reuses 39..40.
    const full = await nodeFetch(path, { ip: "198.51.100.31" });
    expect(full.status).toBe(200);
    expect(await streamSha256(full)).toEqual({ sha256: file.sha256, bytes: size });
    gets = await originGets(path);
    expect(gets).toHaveLength(2);
    expect(gets[1]).toMatchObject({ range: `bytes=0-${firstChunk * CHUNK - 1}`, ifRange: file.etag });
    expect((await stats(path)).bodyBytes).toBe(size);

    // The fill arrived out of order, so the whole-file SHA-256 comes from one read-back pass.
    const meta = await eventually(async () => {
      const m = await storedMeta(path);
      return m?.sha256 ? m : undefined;
    }, 30_000);
    expect(meta).toMatchObject({ length: size, chunkSize: CHUNK, sha256: file.sha256, etag: file.etag });
    expect(await storedChunks(path)).toHaveLength(41);

    // Later hits carry it (RFC 9530 Repr-Digest), also on a 206.
    const hit = await nodeFetch(path, { headers: { range: "bytes=0-99" } });
    expect(hit.status).toBe(206);
    expect(hit.headers.get("repr-digest")).toBe(sha256DigestField(file.sha256));
    await hit.arrayBuffer();
    expect((await stats(path)).gets).toBe(2);
  });
});

describe("fill abort and resume", () => {
  it("the origin dies mid-body: a follower still gets the whole file, resumed by a Range GET at the first missing chunk", async () => {
    const size = 6 * MiB + 100;
    const path = uniquePath("dies-once.bin");
    const file = await putFile(path, size, { seed: 5 });
    const diesAt = 2.5 * MiB;
    // Slow, so the follower joins before the death; once: the resume meets a healthy origin.
    await behave(path, { bytesPerSecond: 4 * MiB, dieAfterBytes: diesAt, once: 1 });

    const filler = await nodeFetch(path, { ip: "192.0.2.41" });
    expect(filler.headers.get("cache-status")).toMatch(/stored/);
    const fillerBody = drain(filler);
    await new Promise((r) => setTimeout(r, 300));
    const follower = await nodeFetch(path, { ip: "192.0.2.42" });
    expect(follower.status).toBe(200);
    expect(follower.headers.get("cache-status")).toMatch(/collapsed/);
    expect(await streamSha256(follower)).toEqual({ sha256: file.sha256, bytes: size });

    // The filler's own client read the dying chunk live: it either errors (its answer is
    // truncated, never completed with wrong bytes) or it completes correctly.
    const f = await fillerBody;
    if (f.complete) expect(f.sha256).toBe(file.sha256);
    console.log(`filler's own client after the origin died: ${f.complete ? "complete" : "truncated (stream error)"}`);

    // Two origin GETs: the one that died, then the rest from the last good chunk boundary.
    const gets = await originGets(path);
    expect(gets).toHaveLength(2);
    expect(gets[0]!.range).toBeNull();
    const resumeAt = Math.floor(diesAt / CHUNK) * CHUNK;
    expect(gets[1]).toMatchObject({ range: `bytes=${resumeAt}-${size - 1}`, ifRange: file.etag });
    const s = await stats(path);
    expect(s.rangeGets).toBe(1);
    expect(s.bodyBytes).toBeLessThanOrEqual(size + CHUNK);

    const meta = await eventually(async () => {
      const m = await storedMeta(path);
      return m?.sha256 ? m : undefined;
    }, 20_000);
    expect(meta).toMatchObject({ length: size, sha256: file.sha256 });
    expect(await storedChunks(path)).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });
});

describe("a version change mid-fill", () => {
  /** What a client got, with the ETag its headers promised. */
  async function outcome(res: Response): Promise<{ status: number; etag: string | null; complete: boolean; bytes: number; sha256: string | null }> {
    return { status: res.status, etag: res.headers.get("etag"), ...(await drain(res)) };
  }

  it("the origin changes and drops the connection: nobody completes a mixed body, nothing of v1 stays stored, the next request gets v2", async () => {
    const size = 6 * MiB;
    const path = uniquePath("changes-mid-fill.bin");
    const v1 = await putFile(path, size, { seed: 21, mtime: 1_700_000_000 });
    const at = 2.5 * MiB;
    // At 2.5 MiB the file becomes v2 (new mtime, so new validators) and the connection dies:
    // the resume's If-Range no longer matches and the origin answers 200 with v2.
    await behave(path, { bytesPerSecond: 2 * MiB, dieAfterBytes: at, replaceAfterBytes: at, replaceSeed: 22, replaceMtime: 1_700_000_500, once: 1 });
    const slice = { start: 3 * MiB - 7, end: 4 * MiB + 7 };

    const a = await nodeFetch(path, { ip: "192.0.2.51" });
    expect(a.headers.get("etag")).toBe(v1.etag);
    const aOut = outcome(a);
    await new Promise((r) => setTimeout(r, 300));
    const [b, c] = await Promise.all([nodeFetch(path, { ip: "192.0.2.52" }), nodeFetch(path, { ip: "192.0.2.53", headers: { range: `bytes=${slice.start}-${slice.end}` } })]);
    const outcomes = await Promise.all([aOut, outcome(b), outcome(c)]);

    const v2 = await fileInfo(path);
    expect(v2.etag).not.toBe(v1.etag);
    const sliceSha = { [v1.etag]: await sha256Hex(await referenceBytes(size, 21, slice)), [v2.etag]: await sha256Hex(await referenceBytes(size, 22, slice)) };
    const wholeSha = { [v1.etag]: v1.sha256, [v2.etag]: v2.sha256 };
    console.log(`outcomes after the change: ${outcomes.map((o) => `${o.status} ${o.etag === v1.etag ? "v1" : o.etag === v2.etag ? "v2" : "-"} ${o.complete ? "complete" : "truncated"}`).join(", ")}`);
    for (const o of outcomes) {
      // A failure known before the first byte may still be an error status (502), not a body.
      if (o.status >= 500) continue;
      expect([200, 206]).toContain(o.status);
      // All three asked while v1 was current: their headers name v1...
      expect(o.etag).toBe(v1.etag);
      // ...and a complete body is exactly that version's bytes; anything else must be cut short.
      if (o.complete) expect(o.sha256).toBe(o.status === 206 ? sliceSha[o.etag!] : wholeSha[o.etag!]);
    }

    // v1 can never complete: its chunks are deleted and no pointer names it.
    const old = await versionOfFile(v1);
    await eventually(async () => (await keysOf("chunk/", path)).every((k) => !k.startsWith(`chunk/${old}-`)));
    expect(await keysOf("manifest/", path)).toEqual([]);
    expect(await storedMeta(path)).toBeNull();

    const next = await nodeFetch(path, { ip: "192.0.2.54" });
    expect(next.status).toBe(200);
    expect(next.headers.get("etag")).toBe(v2.etag);
    expect(await streamSha256(next)).toEqual({ sha256: v2.sha256, bytes: size });
    const meta = await eventually(async () => {
      const m = await storedMeta(path);
      return m?.sha256 ? m : undefined;
    });
    expect(meta).toMatchObject({ etag: v2.etag, sha256: v2.sha256, version: await versionOfFile(v2) });
    const fresh = await versionOfFile(v2);
    for (const k of [...(await keysOf("chunk/", path)), ...(await keysOf("manifest/", path))]) expect(k).toMatch(new RegExp(`^(chunk|manifest)/${fresh}-`));
  });

  it("the origin changes while the fill's one GET keeps streaming v1: clients get v1 whole, the next request refills v2; v1's bytes go after the grace period", async () => {
    const size = 4 * MiB + 10;
    const path = uniquePath("changes-behind.bin");
    const v1 = await putFile(path, size, { seed: 31, mtime: 1_700_000_000 });
    // The open file keeps v1's bytes for this answer; only later requests see v2.
    await behave(path, { bytesPerSecond: 4 * MiB, replaceAfterBytes: MiB, replaceSeed: 32, replaceMtime: 1_700_000_900, once: 1 });
    const a = await nodeFetch(path, { ip: "192.0.2.61" });
    const aOut = outcome(a);
    await new Promise((r) => setTimeout(r, 100));
    const b = await nodeFetch(path, { ip: "192.0.2.62" });
    for (const o of await Promise.all([aOut, outcome(b)])) expect(o).toMatchObject({ status: 200, etag: v1.etag, complete: true, sha256: v1.sha256 });
    const v1Keys = await eventually(async () => {
      const keys = [...(await keysOf("chunk/", path)), ...(await keysOf("manifest/", path))];
      return keys.length === 6 ? keys : undefined;
    });

    const v2 = await fileInfo(path);
    const next = await nodeFetch(path, { ip: "192.0.2.63" });
    expect(next.headers.get("etag")).toBe(v2.etag);
    expect(await streamSha256(next)).toEqual({ sha256: v2.sha256, bytes: size });
    expect(await storedMeta(path)).toMatchObject({ etag: v2.etag });
    // Downloads of v1 still running (in any colo) keep reading its chunks for a while...
    for (const k of v1Keys) expect(await store.head(k)).not.toBeNull();
    // ...until the v2 coordinator's alarm after the grace period (an hour) deletes them.
    const coordinator = fills.get(fills.idFromName(`${path}\n${await versionOfFile(v2)}`));
    await alarmAt(coordinator, Date.now() + 3600_000 + 1000);
    for (const k of v1Keys) expect(await store.head(k)).toBeNull();
    expect(await storedMeta(path)).toMatchObject({ etag: v2.etag });
    expect(await streamSha256(await nodeFetch(path, { ip: "192.0.2.64" }))).toEqual({ sha256: v2.sha256, bytes: size });
  });
});

/** `p`, or "timeout" after `ms`: a known hang must fail the test, not stall the suite. */
function within<T>(p: Promise<T>, ms: number): Promise<T | "timeout"> {
  return Promise.race([p, new Promise<"timeout">((r) => setTimeout(() => r("timeout"), ms))]);
}

// Known gaps found while writing these tests (see the review report). Each asserts the
// behaviour issue #12 asks for and is marked `.fails` until the fill code provides it:
// drop `.fails` with the fix.
describe("fill recovery: known gaps", () => {
  // BUG src/fill/cold-read.ts LiveFill.readChunk: the filler's own client reads the chunk
  // being fetched live; when the origin dies, LiveChunk.fail errors that client's body
  // although the fill resumes from the same chunk moments later.
  it("the client whose request fetched the dying chunk also gets the whole file", async () => {
    const size = 4 * MiB + 100;
    const path = uniquePath("dies-filler-client.bin");
    const file = await putFile(path, size, { seed: 6 });
    await behave(path, { bytesPerSecond: 4 * MiB, dieAfterBytes: 1.5 * MiB, once: 1 });
    const filler = await nodeFetch(path, { ip: "192.0.2.71" });
    expect(await drain(filler)).toEqual({ complete: true, bytes: size, sha256: file.sha256 });
  });

  // BUG src/fill/filler.ts pump: the heartbeat renews the lease every stallMs/3 whether or
  // not origin bytes arrive, and nothing times out a body read, so an origin that hangs
  // mid-body holds the lease forever: followers give up after MAX_REJOINS ("the fill
  // stalled") and the filler's own client waits forever.
  it("an origin that hangs mid-body loses its lease after FILL_STALL_SECONDS and the fill resumes", async () => {
    const size = 4 * MiB + 100;
    const path = uniquePath("hangs.bin");
    const file = await putFile(path, size, { seed: 8 });
    await behave(path, { stallAfterBytes: 1.5 * MiB, once: 1 });
    const filler = await nodeFetch(path, { ip: "192.0.2.81" });
    const fillerBody = drain(filler);
    const follower = await nodeFetch(path, { ip: "192.0.2.82" });
    // FILL_STALL_SECONDS is 3 in the tests: a resume well within 12 s is the fix's due.
    expect(await within(drain(follower), 12_000)).toEqual({ complete: true, bytes: size, sha256: file.sha256 });
    expect(await within(fillerBody, 1_000)).toEqual({ complete: true, bytes: size, sha256: file.sha256 });
  });
});
