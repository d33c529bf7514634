import { env } from "cloudflare:workers";
import { generatedBody } from "../../support/streams";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { cacheStatus, type CacheStatusParams } from "../../../src/http/cache-status";
import { FLUSH_FILE_ENTRIES, recordServed as record } from "../../../src/stats/recorder";
import { sharedStats } from "./support";

/** A deployment's env with some variables changed (same real bindings), as baseWithVars makes. */
const withVars = (vars: Record<string, string>): object => ({ ...(env as object), ...vars });

/** A body of `length` zero bytes, made as it is read (64 KiB at a time). */
const zeros = (length: number) => generatedBody(length);

function answer(status: number, params: CacheStatusParams, length: number): Response {
  return new Response(zeros(length), { status, headers: { "cache-status": cacheStatus("test-base", params), "content-length": String(length) } });
}

/**
 * Records `res` as the base's answer for `path` and reads the answer to send to its end,
 * as a client would: bytes count as they are pulled (platform/counted-body.ts).
 */
async function recordServed(e: object, ctx: ExecutionContext, path: string, res: Response): Promise<void> {
  const req = new Request(`http://base.test${path}`, { headers: { "cf-connecting-ip": "198.51.100.1" } });
  const sent = record(e, ctx, { path, req, method: req.method, res, worker: "test-base", client: { address: "198.51.100.1", key: () => "198.51.100.1" } });
  await sent.body?.pipeTo(new WritableStream());
}
const COPY: CacheStatusParams = { hit: true, ttl: 10, detail: "cache-api" };
const ORIGIN: CacheStatusParams = { fwd: "miss", fwdStatus: 200, stored: true };

const unique = (name: string) => `/stats-test/${crypto.randomUUID()}/${name}`;
/** So big that a recorded file would surely be among the top 100: absence then means "not recorded". */
const HUGE = 3_000_000;

async function fileCounts(path: string) {
  const sum = await sharedStats().summary({ minutes: 5, top: 100 });
  return sum.top.find((f) => f.path === path) ?? null;
}

async function refusals(): Promise<number> {
  return (await sharedStats().summary({ minutes: 5, top: 1 })).totals.refusals;
}

afterEach(() => vi.restoreAllMocks());

describe("recordServed -> OffloadStats", () => {
  it("with STATS_FLUSH_SECONDS=0 every answer's counts arrive in the shared object", async () => {
    const e = withVars({ STATS_FLUSH_SECONDS: "0" });
    const path = unique("a.iso");
    const refusedBefore = await refusals();
    const ctx = createExecutionContext();
    await recordServed(e, ctx, path, answer(200, ORIGIN, 5_000_000));
    await recordServed(e, ctx, path, answer(200, COPY, 5_000_000));
    await recordServed(e, ctx, path, answer(206, { fwd: "stale", fwdStatus: 304, detail: "r2" }, 1000));
    await recordServed(e, ctx, path, answer(503, { detail: "concurrency-limit" }, 200));
    await recordServed(e, ctx, path, answer(404, { fwd: "miss", fwdStatus: 404 }, 20));
    await waitOnExecutionContext(ctx);

    expect(await fileCounts(path)).toEqual({ path, bytes: 10_001_000, responses: 3, copyBytes: 5_001_000 });
    expect(await refusals()).toBe(refusedBefore + 1);
  });

  it("holds counts until STATS_FLUSH_SECONDS pass, or until the batch holds over 200 files", async () => {
    const e = withVars({ STATS_FLUSH_SECONDS: "3600" });
    const path = unique("held.bin");
    let ctx = createExecutionContext();
    // An isolate's first answer goes out at once (nothing flushed yet)...
    await recordServed(e, ctx, path, answer(200, COPY, 9_000_000));
    // ...the next ones wait for the hour to pass.
    await recordServed(e, ctx, path, answer(200, COPY, 9_000_000));
    await waitOnExecutionContext(ctx);
    expect(await fileCounts(path)).toMatchObject({ responses: 1, bytes: 9_000_000 });

    ctx = createExecutionContext();
    for (let i = 0; i < FLUSH_FILE_ENTRIES - 1; i++) await recordServed(e, ctx, unique(`f${i}`), answer(200, ORIGIN, 1));
    await waitOnExecutionContext(ctx);
    expect(await fileCounts(path)).toMatchObject({ responses: 1 }); // 200 files: still held
    ctx = createExecutionContext();
    await recordServed(e, ctx, unique("one-more"), answer(200, ORIGIN, 1));
    await waitOnExecutionContext(ctx);
    expect(await fileCounts(path)).toMatchObject({ responses: 2, bytes: 18_000_000 });
  });

  it("sends held counts after STATS_FLUSH_SECONDS even when no further answer comes", async () => {
    const e = withVars({ STATS_FLUSH_SECONDS: "1" });
    const path = unique("idle.bin");
    let ctx = createExecutionContext();
    await recordServed(e, ctx, path, answer(200, COPY, 7)); // first answer: sent at once
    await waitOnExecutionContext(ctx);
    ctx = createExecutionContext();
    await recordServed(e, ctx, path, answer(200, COPY, 7)); // held, then sent by its own request's waitUntil
    expect(await fileCounts(path)).toMatchObject({ responses: 1 });
    await waitOnExecutionContext(ctx);
    expect(await fileCounts(path)).toMatchObject({ responses: 2, bytes: 14 });
  });

  it("is a no-op without a STATS binding", async () => {
    const { STATS: _dropped, ...rest } = env as unknown as Record<string, unknown>;
    const path = unique("unbound.bin");
    const ctx = createExecutionContext();
    await recordServed({ ...rest, STATS_FLUSH_SECONDS: "0" }, ctx, path, answer(200, COPY, HUGE));
    await waitOnExecutionContext(ctx);
    expect(await fileCounts(path)).toBeNull();
  });

  it("logs a failed flush as JSON and drops its counts, without failing the request", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const e = withVars({ STATS_FLUSH_SECONDS: "0" });
    const ctx = createExecutionContext();
    // The object refuses a path over 2048 characters: the whole batch is rejected.
    const tooLong = `/${"x".repeat(3000)}`;
    await recordServed(e, ctx, tooLong, answer(200, COPY, 10));
    await waitOnExecutionContext(ctx);
    const logged = errors.mock.calls.map((c) => JSON.parse(String(c[0])) as Record<string, unknown>);
    expect(logged).toContainEqual(expect.objectContaining({ msg: "stats.flush-failed", answersDropped: 1 }));
    expect(String(logged.find((l) => l.msg === "stats.flush-failed")?.error)).toMatch(/path: longer than 2048/);

    // The next flush carries only the new answer, not the dropped ones again.
    const path = unique("after.bin");
    const next = createExecutionContext();
    await recordServed(e, next, path, answer(200, COPY, HUGE));
    await waitOnExecutionContext(next);
    expect(await fileCounts(path)).toEqual({ path, bytes: HUGE, responses: 1, copyBytes: HUGE });
  });

  it("records nothing (and says so) when STATS_FLUSH_SECONDS is invalid", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const path = unique("bad-setting.bin");
    const ctx = createExecutionContext();
    await recordServed(withVars({ STATS_FLUSH_SECONDS: "soon" }), ctx, path, answer(200, COPY, HUGE));
    await waitOnExecutionContext(ctx);
    expect(await fileCounts(path)).toBeNull();
    expect(String(errors.mock.calls[0]?.[0])).toMatch(/"msg":"stats.disabled".*STATS_FLUSH_SECONDS/);
  });
});
