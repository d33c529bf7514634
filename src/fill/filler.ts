/**
 * Fetches one lease of chunks from the origin inside a node's Worker and stores each as
 * an immutable R2 object (and in this colo's Cache API), reporting every stored chunk to
 * the FillCoordinator. The origin answer must be exactly the version being filled
 * (validators and, for a range, Content-Range); anything else is given up, and a
 * different version tells the coordinator this one is gone.
 */
import type { NodeConfig } from "../config/node-config";
import { sha256FromDigestField } from "../http/digest";
import { discard, headOf, originFetch } from "../origin/origin";
import { batchedReader } from "../platform/batched-reader";
import { chunkSpan } from "../store/layout";
import { hex, type OriginHead, type StoredMeta } from "../store/meta";
import type { Store } from "../store/store";
import type { CoordinatorLink } from "./link";
import { LiveChunk } from "./live-chunk";
import type { FillChunks } from "./live-chunks";
import type { Lease } from "./plan";

export interface FillJob {
  key: string;
  target: string;
  version: string;
  head: OriginHead & { length: number };
  fill: string;
  chunkSize: number;
  chunks: number;
}

export interface FillerDeps {
  config: Pick<NodeConfig, "originUrl" | "originTimeoutMs" | "nodeId" | "fillStallSeconds">;
  store: Store;
  coordinator: CoordinatorLink;
  /** The chunks of this lease in flight, readable live by the request's client. */
  live: FillChunks;
  /** The id of the request running this lease, for the log line of an origin failure. */
  requestId?: string;
}

export type FillOutcome = { ok: true } | { ok: false; reason: string; changed: boolean };

/** The meta a chunk of `job` is named and cached under. */
export function jobMeta(job: FillJob): StoredMeta {
  return { key: job.key, version: job.version, ...job.head, sha256: "", storedAt: 0, chunkSize: job.chunkSize, fill: job.fill };
}

export async function runLease(deps: FillerDeps, job: FillJob, lease: Lease): Promise<FillOutcome> {
  const start = lease.next * job.chunkSize;
  const end = Math.min(job.head.length, lease.end * job.chunkSize);
  const whole = lease.next === 0 && lease.end === job.chunks;
  const validator = job.head.etag ?? job.head.lastModified;
  // RFC 9110 §13.1.5: If-Range makes a changed file come back whole (200), never as a
  // range of the new bytes; an unchanged one comes back as exactly this range.
  const headers: Record<string, string> = whole || !validator ? {} : { range: `bytes=${start}-${end - 1}`, "if-range": validator };
  const answer = await originFetch(deps.config, { method: "GET", target: job.target, headers, ...(deps.requestId ? { requestId: () => deps.requestId! } : {}) });
  if (!answer.ok) return giveUp(deps, job, lease, answer.reason, false);
  const res = answer.response;
  const checked = check(res, job, start, end);
  if (!checked.ok) {
    discard(res);
    return giveUp(deps, job, lease, checked.reason, checked.changed);
  }
  const claimed = sha256FromDigestField(res.headers.get("repr-digest") ?? (res.status === 200 ? res.headers.get("content-digest") : null));
  return pump(deps, job, lease, res.body!, res.status === 200 ? start : 0, claimed, whole);
}

function check(res: Response, job: FillJob, start: number, end: number): { ok: true } | { ok: false; reason: string; changed: boolean } {
  if (res.status !== 200 && res.status !== 206) return { ok: false, reason: `origin answered ${res.status} to the fill GET`, changed: res.status === 404 || res.status === 410 || res.status === 412 };
  if (!res.body) return { ok: false, reason: "origin sent no body", changed: false };
  const head = headOf(res);
  const want = job.head;
  if (head.etag !== want.etag || (want.lastModified !== null && head.lastModified !== null && head.lastModified !== want.lastModified)) {
    return { ok: false, reason: "origin now has another version", changed: true };
  }
  if (res.status === 200) {
    return head.length === want.length ? { ok: true } : { ok: false, reason: "origin now has another version", changed: true };
  }
  const expected = `bytes ${start}-${end - 1}/${want.length}`;
  return res.headers.get("content-range") === expected ? { ok: true } : { ok: false, reason: `origin sent Content-Range ${res.headers.get("content-range")}, not ${expected}`, changed: false };
}

async function giveUp(deps: FillerDeps, job: FillJob, lease: Lease, reason: string, changed: boolean): Promise<FillOutcome> {
  await deps.coordinator.call((c) => c.abandon({ fill: job.fill, lease: lease.id, reason, changed })).catch(() => {});
  return { ok: false, reason, changed };
}

/**
 * `skip` bytes of the body precede the lease (an origin that ignored the Range and sent
 * the whole file). Memory: one chunk buffer, whatever the file size. A lease taken back
 * (the coordinator says so on a report or heartbeat) ends the origin body at once: the
 * chunk already read whole is still stored and reported (its bytes are good), the partial
 * one is dropped, since its new holder fetches it from its start anyway.
 */
async function pump(deps: FillerDeps, job: FillJob, lease: Lease, body: ReadableStream<Uint8Array>, skip: number, claimed: string | undefined, whole: boolean): Promise<FillOutcome> {
  const meta = jobMeta(job);
  const reader = batchedReader(body, READ_BYTES);
  const digest = whole ? new crypto.DigestStream("SHA-256") : null;
  const digestWriter = digest?.getWriter() ?? null;
  digest?.digest.catch(() => {});
  let lastReport = Date.now();
  let lastByte = Date.now();
  let stalled = false;
  /** Why the fill stops before the body ends: the lease is gone or the fill refused. */
  let stop: Error | null = null;
  const halt = (e: Error) => {
    stop ??= e;
    reader.cancel().catch(() => {});
  };
  const stallMs = deps.config.fillStallSeconds * 1000;
  // Keeps the lease while a slow origin takes long over one chunk, but only while bytes
  // arrive: an origin that goes silent mid-body (the header timeout no longer applies)
  // is cut off after FILL_STALL_SECONDS, and the fill resumes elsewhere with a Range.
  const heartbeat = setInterval(() => {
    const now = Date.now();
    if (now - lastByte >= stallMs) {
      stalled = true;
      reader.cancel().catch(() => {});
    } else if (now - lastReport >= stallMs / 3) {
      const renewal = { fill: job.fill, lease: lease.id, next: index, end: lease.end };
      void deps.coordinator.call((c) => c.renew(renewal)).then((held) => held || halt(new LeaseLost()), () => {});
    }
  }, Math.max(250, stallMs / 3));
  const first = lease.next;
  let index = first;
  let chunk = openChunk(deps, job, index);
  let toSkip = skip;
  // Chunk i is stored (R2, cache, report) while chunk i+1 is read from the origin, as a
  // bare tee stores while it streams: two chunk buffers at most, never a wait per chunk.
  let storing: Promise<void> = Promise.resolve();
  let sinceYield = 0;
  let started = false;
  /** Hands the full chunk to storage; true when it was the lease's last (then stored). */
  const complete = async (): Promise<boolean> => {
    await digestWriter?.write(chunk.buffer);
    const last = index === lease.end - 1;
    const wholeSha256 = last && digest && digestWriter ? await digestWriter.close().then(async () => hex(new Uint8Array(await digest.digest))) : undefined;
    const done = chunk;
    const at = index;
    const previous = storing;
    storing = storeChunk(deps, done.live, at, async () => {
      const sha256 = hex(new Uint8Array(await crypto.subtle.digest("SHA-256", done.buffer)));
      // The colo copy alongside R2, but the report waits for R2 (and the warming claim)
      // alone: the last chunk's client need not wait for the cache put.
      const { claimed: warming, cached } = deps.store.cacheChunk(meta, at, done.buffer);
      await Promise.all([deps.store.writeChunk(meta, at, done.buffer, sha256), warming]).catch(async (e: unknown) => {
        await cached;
        throw e;
      });
      // Reports go in index order, so the coordinator's stored set grows without holes.
      const before = await previous.then(
        () => null,
        (e: unknown) => e as Error,
      );
      if (before instanceof Refused) {
        // Dropped after its cache put ends, so that put cannot bring the entry back.
        await cached;
        await dropChunks(deps, job, at, at);
        throw before;
      }
      // A chunk written is reported even after a lost lease: its bytes are good.
      const report = { key: job.key, fill: job.fill, lease: lease.id, end: lease.end, index: at, sha256, ...(wholeSha256 ? { wholeSha256 } : {}), ...(claimed ? { claimedSha256: claimed } : {}) };
      // A call that throws (network, a coordinator restarting) is not a refusal: once more.
      const answer = await deps.coordinator.call((c) => c.report(report), true);
      lastReport = Date.now();
      if (!answer.ok) {
        // Thrown through storeChunk: its readers get an error, not bytes of a discarded fill.
        const refused = new Refused();
        // This one, and the colo's cache entries of those stored before (the coordinator
        // deletes their R2 objects, but cannot reach this colo's cache).
        await cached;
        await dropChunks(deps, job, first, at);
        halt(refused);
        throw refused;
      }
      // Stored and reported: readers take it from the store from now on (and the last
      // chunk's final byte is released, the whole file having checked out).
      done.live.end();
      deps.live.delete(at, done.live);
      // Still inside `storing`, so no more than two chunk buffers live at once.
      await cached;
      if (answer.hashPass) await hashPass(deps, job).catch(() => {});
      if (before) throw before;
      if (!answer.held && at < lease.end - 1) halt(new LeaseLost());
    });
    // Observed here so a failure between two chunks is not an unhandled rejection; it
    // still surfaces at the next await of `storing` or `previous`.
    storing.catch(() => {});
    // At most one chunk stored in the background: wait for the one before it.
    await previous;
    if (last) {
      await storing;
      return true;
    }
    chunk = openChunk(deps, job, ++index);
    return false;
  };
  try {
    // An empty file is one empty chunk: nothing to read.
    if (chunk.buffer.byteLength === 0 && (await complete())) return { ok: true };
    for (;;) {
      // Silence is counted from when we ask: our own slow stores must not look like the origin's.
      lastByte = Date.now();
      // The first piece as soon as it comes (the live client's first byte), then batches.
      const value = await reader.read(started ? BATCH_BYTES : 1);
      if (value === null) throw stop ?? new Error(stalled ? `the origin sent nothing for ${deps.config.fillStallSeconds} s` : `origin body ended inside chunk ${index}`);
      started = true;
      lastByte = Date.now();
      let piece = value;
      if (toSkip > 0) {
        const n = Math.min(toSkip, piece.byteLength);
        toSkip -= n;
        piece = piece.subarray(n);
      }
      while (piece.byteLength > 0) {
        const n = Math.min(chunk.buffer.byteLength - chunk.filled, piece.byteLength);
        chunk.buffer.set(piece.subarray(0, n), chunk.filled);
        chunk.filled += n;
        chunk.live.filledTo(chunk.filled);
        piece = piece.subarray(n);
        if (chunk.filled === chunk.buffer.byteLength && (await complete())) {
          reader.cancel().catch(() => {});
          return { ok: true };
        }
      }
      // An origin faster than the client's socket would otherwise keep this loop in
      // microtasks and the live client would get its bytes only between chunks.
      sinceYield += value.byteLength;
      if (sinceYield >= YIELD_BYTES) {
        sinceYield = 0;
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
    }
  } catch (e) {
    reader.cancel().catch(() => {});
    await storing.catch(() => {});
    digestWriter?.abort().catch(() => {});
    const err = stop ?? (e as Error);
    const notOurs = err instanceof Refused || err instanceof LeaseLost;
    const reason = notOurs ? err.message : `fill failed: ${err.message}`;
    chunk.live.fail(new Error(reason));
    deps.live.delete(index, chunk.live);
    // Refused: the coordinator already dropped this fill; lost: the lease is someone else's.
    return notOurs ? { ok: false, reason, changed: false } : giveUp(deps, job, lease, reason, false);
  } finally {
    clearInterval(heartbeat);
  }
}

/** The buffer of chunk `index`, readable live by this isolate's clients of the fill. */
function openChunk(deps: FillerDeps, job: FillJob, index: number): { buffer: Uint8Array; filled: number; live: LiveChunk } {
  const span = chunkSpan(job.head.length, job.chunkSize, index);
  const buffer = new Uint8Array(span.end - span.start);
  const live = new LiveChunk(buffer, index === job.chunks - 1);
  deps.live.set(index, live);
  return { buffer, filled: 0, live };
}

/** Runs `store` for chunk `at`; if it throws, the chunk's live readers are told (they resume from the store or a new filler). */
async function storeChunk(deps: FillerDeps, live: LiveChunk, at: number, store: () => Promise<void>): Promise<void> {
  try {
    await store();
  } catch (e) {
    live.fail(e as Error);
    deps.live.delete(at, live);
    throw e;
  }
}

/** Bytes read from the origin between two yields to the event loop. */
const YIELD_BYTES = 256 * 1024;

/**
 * Origin bytes asked for per read after the first (batched-reader.ts: the body comes in
 * 4 KiB pieces, each a JavaScript turn of the fill and of its live client). Costs a slow
 * origin at most this much delay per piece; one that sends less than this in
 * FILL_STALL_SECONDS is cut off as silent.
 */
const BATCH_BYTES = 64 * 1024;
/** The scratch buffer the reads land in: room for several batches when the origin is fast. */
const READ_BYTES = 256 * 1024;

class Refused extends Error {
  constructor() {
    super("the coordinator refused the chunk (the fill was discarded)");
  }
}

class LeaseLost extends Error {
  constructor() {
    super("the lease was taken back (it expired and went to another filler)");
  }
}

/** Chunks the coordinator refused are named by a dead fill id: nobody will ever read them. */
async function dropChunks(deps: FillerDeps, job: FillJob, from: number, to: number): Promise<void> {
  const meta = jobMeta(job);
  for (let i = from; i <= to; i++) await deps.store.deleteChunk(meta, i).catch(() => {});
}

/**
 * Whole-file SHA-256 of a version completed out of order, read back from R2 once; the
 * version becomes visible when the coordinator has it. Safe to run again (a pass that
 * died with its Worker is asked of the next joiner): the coordinator takes one answer.
 */
export async function hashPass(deps: Pick<FillerDeps, "store" | "coordinator">, job: FillJob): Promise<void> {
  const digest = new crypto.DigestStream("SHA-256");
  digest.digest.catch(() => {});
  const meta = jobMeta(job);
  let missing = false;
  for (let i = 0; i < job.chunks && !missing; i++) {
    const span = chunkSpan(job.head.length, job.chunkSize, i);
    const body = await deps.store.r2.chunk(meta, i, 0, span.end - span.start);
    if (body) await body.pipeTo(digest, { preventClose: true });
    else missing = true;
  }
  const writer = digest.getWriter();
  await (missing ? writer.abort() : writer.close());
  const sha256 = missing ? null : hex(new Uint8Array(await digest.digest));
  await deps.coordinator.call((c) => c.hashed(job.fill, sha256), true);
}
