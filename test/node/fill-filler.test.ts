// The filler as a node Worker runs it (runLease), against the real origin, R2 and
// FillCoordinator: what it does when its lease is taken back, when the coordinator
// restarts under it, and when the fill it works for is discarded.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/node/load-config";
import type { FillCoordinator } from "../../src/fill/coordinator";
import { runLease, type FillJob, type FillOutcome } from "../../src/fill/filler";
import { CoordinatorLink } from "../../src/fill/link";
import { FillChunks } from "../../src/fill/live-chunks";
import type { JoinResult } from "../../src/fill/protocol";
import { headOf } from "../../src/origin/origin";
import { chunkCount, chunkKey } from "../../src/store/layout";
import { Store } from "../../src/store/store";
import { atTime } from "../fill/clock";
import { active, LEASE_MS, pointer } from "../fill/fixture";
import { behave, putFile, stats, uniquePath, type FileInfo } from "../support/origin";
import { eventually } from "../support/node";

const fills = (env as unknown as { FILLS: DurableObjectNamespace<FillCoordinator> }).FILLS;
const bucket = (env as unknown as Env).STORE;
const loaded = loadConfig(env);
if (!loaded.ok) throw loaded.error;
const config = loaded.config;
const MiB = 1024 * 1024;

/** A file at the origin and the fill of it, joined as a node would; the test runs the leases. */
async function fillOf(name: string, size: number, seed: number) {
  const path = uniquePath(name);
  const file = await putFile(path, size, { seed });
  const head = headOf(await fetch(config.originUrl + path, { method: "HEAD" }));
  const length = head.length!;
  const version = `v-${crypto.randomUUID().slice(0, 8)}`;
  const id = fills.idFromName(`${path}\n${version}`);
  const stub = fills.get(id);
  const link = () => new CoordinatorLink(() => fills.get(id));
  const join = async () => active(await link().call((c) => c.join({ key: path, target: path, version, head: { ...head, length }, chunkSize: MiB, window: null }) as Promise<JoinResult>));
  // With this colo's cache on, as in production: chunks go to both tiers.
  const store = new Store(bucket, caches.default, { cacheMaxBytes: 1 << 30, waitUntil: () => {} });
  const run = (j: Awaited<ReturnType<typeof join>>, at?: number): Promise<FillOutcome> => {
    const job: FillJob = { key: path, target: path, version, head: { ...head, length }, fill: j.fill, chunkSize: j.chunkSize, chunks: chunkCount(length, j.chunkSize) };
    const live = new FillChunks();
    const go = () => runLease({ config, store, coordinator: link(), live }, job, j.lease!);
    return at === undefined ? go() : atTime(at, go);
  };
  /** The meta a chunk of `fill` is named and cached under. */
  const metaOf = (fill: string) => ({ key: path, version, ...head, length, sha256: "", storedAt: 0, chunkSize: MiB, fill });
  /** Chunks of this fill in R2 (or this colo's cache), by index. */
  const chunksIn = async (fill: string, tier: "r2" | "cache" = "r2"): Promise<number[]> => {
    const found: number[] = [];
    const meta = metaOf(fill);
    for (let i = 0; i < chunkCount(length, MiB); i++) {
      const there = tier === "r2" ? await bucket.head(chunkKey(path, version, fill, i)) : await store.cache.chunk(meta, i, 0, 1, MiB);
      if (there) found.push(i);
      if (there instanceof ReadableStream) await there.cancel();
    }
    return found;
  };
  return { path, file: file as FileInfo, stub, join, run, chunksIn, store, metaOf };
}

describe("a filler whose lease is gone", () => {
  it("stops pulling the origin body after the chunk in hand; that chunk is kept", async () => {
    const size = 8 * MiB;
    const f = await fillOf("lease-lost.bin", size, 61);
    await behave(f.path, { bytesPerSecond: 4 * MiB });
    const t0 = Date.now();
    const a = await atTime(t0, f.join);
    // A was silent for a whole lease before its origin answered: B took its chunks over.
    const b = await atTime(t0 + LEASE_MS + 1, f.join);
    expect(b.lease).toMatchObject({ next: 0, end: 8 });

    const outcome = await f.run(a, t0 + LEASE_MS + 2);
    expect(outcome).toMatchObject({ ok: false, reason: expect.stringMatching(/lease was taken back/) });
    // Without the check it would have read all 8 MiB next to B's own GET.
    const s = await stats(f.path);
    expect(s.gets).toBe(1);
    expect(s.bodyBytes).toBeLessThan(size / 2);
    // Its first chunk was accepted: B's lease no longer needs it from the origin.
    const c = await f.join();
    expect(c.stored[0]).toBe(1);
    await Promise.all([a, b, c].map((j) => j.progress.cancel()));
    await behave(f.path, "clear");
  });
});

describe("a report that throws is tried again", () => {
  it("the coordinator restarts mid-fill: the filler's report fails once, goes through a fresh stub, and the one origin GET completes the file", async () => {
    const size = 6 * MiB;
    const f = await fillOf("restart.bin", size, 62);
    await behave(f.path, { bytesPerSecond: 3 * MiB });
    const a = await f.join();
    await a.progress.cancel();
    const running = f.run(a);
    await eventually(async () => (await f.chunksIn(a.fill)).length > 0);
    // Hold the object while a report or two queue up behind it, then reset it (a deploy,
    // an eviction): the queued calls fail and the stub they came through stays broken.
    await runInDurableObject(f.stub, async (_o, state) => {
      await state.blockConcurrencyWhile(() => new Promise((r) => setTimeout(r, 800)));
      state.abort("reset by the test");
    }).catch(() => {});

    expect(await running).toEqual({ ok: true });
    const s = await stats(f.path);
    expect(s.gets).toBe(1);
    expect(s.bodyBytes).toBe(size);
    expect(await pointer(f.path)).toMatchObject({ fill: a.fill, sha256: f.file.sha256 });
    await behave(f.path, "clear");
  });
});

describe("a chunk the coordinator refuses", () => {
  it("is deleted by its filler: a discarded fill leaves no chunk behind", async () => {
    const size = 6 * MiB;
    const f = await fillOf("discarded.bin", size, 63);
    await behave(f.path, { bytesPerSecond: 2 * MiB });
    const a = await f.join();
    await a.progress.cancel();
    const running = f.run(a);
    await eventually(async () => (await f.chunksIn(a.fill)).length > 0);
    expect((await f.chunksIn(a.fill, "cache")).length).toBeGreaterThan(0);
    // Another filler found the origin changed: the coordinator drops the fill and its chunks.
    await f.stub.abandon({ fill: a.fill, lease: "another-filler", reason: "origin now has another version", changed: true });

    expect(await running).toMatchObject({ ok: false, reason: expect.stringMatching(/refused/) });
    expect(await f.chunksIn(a.fill)).toEqual([]);
    expect(await f.chunksIn(a.fill, "cache")).toEqual([]);
    expect((await stats(f.path)).bodyBytes).toBeLessThan(size);
    await behave(f.path, "clear");
  });
});

describe("a chunk's colo copy", () => {
  it("is in the colo cache once the lease ends, its warming claimed by the filler: a colo reader that missed it meanwhile does not warm it again", async () => {
    // Whole chunks: chunksIn reads a cached chunk as one of MiB.
    const f = await fillOf("colo-copy.bin", 3 * MiB, 67);
    const a = await f.join();
    expect(await f.run(a)).toEqual({ ok: true });
    expect(await f.chunksIn(a.fill, "cache")).toEqual([0, 1, 2]);
    // Each chunk was reported before its cache put ended; the claim went first.
    for (let i = 0; i < 3; i++) expect(await f.store.cache.claimWarming(f.metaOf(a.fill), i)).toBe(false);
  });
});
