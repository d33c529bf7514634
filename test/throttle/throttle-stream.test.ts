import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CATCH_UP_MS, createThrottle, throttle } from "../../src/throttle/throttle-stream";
import { concat, countingSource, drain, fakeTime, patternChunks } from "./fake-time";

/** Let pending promise jobs run (no clock involved). */
const settle = () => new Promise<void>((r) => setTimeout(r, 0));

describe("throttle: option checks (once, at creation)", () => {
  it.each([
    [{ bytesPerSecond: 0 }, /bytesPerSecond/],
    [{ bytesPerSecond: -1 }, /bytesPerSecond/],
    [{ bytesPerSecond: Number.NaN }, /bytesPerSecond/],
    [{ bytesPerSecond: Number.POSITIVE_INFINITY }, /bytesPerSecond/],
    [{ bytesPerSecond: 100, burstBytes: -1 }, /burstBytes/],
    [{ bytesPerSecond: 100, burstBytes: 1.5 }, /burstBytes/],
    [{ bytesPerSecond: 100, stepMs: 5 }, /stepMs/],
    [{ bytesPerSecond: 100, stepMs: 5000 }, /stepMs/],
  ])("rejects %j", (opts, field) => {
    expect(() => createThrottle(opts)).toThrow(RangeError);
    expect(() => createThrottle(opts)).toThrow(field);
  });
});

describe("throttle: pacing with an injected clock", () => {
  const scenario = fc.record({
    sizes: fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 12_000 })), { maxLength: 12 }),
    bytesPerSecond: fc.oneof(fc.integer({ min: 2000, max: 2_000_000 }), fc.double({ min: 2000, max: 200_000, noNaN: true })),
    burstBytes: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 20_000 })),
    stepMs: fc.integer({ min: 10, max: 1000 }),
    // Some readers pause between reads (slow client): the bound must hold all the same.
    pauses: fc.array(fc.integer({ min: 0, max: 3000 }), { maxLength: 5 }),
  });

  it("delivers exactly the upstream bytes, within burst + rate * t, in about N / rate", async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ sizes, bytesPerSecond, burstBytes, stepMs, pauses }) => {
        const chunks = patternChunks(sizes);
        const expected = concat(chunks);
        const clock = fakeTime();
        const out = throttle(countingSource(chunks).stream, { bytesPerSecond, burstBytes, stepMs, now: clock.now, sleep: clock.sleep });
        let reads = 0;
        const { data, releases } = await drain(out, clock.now, () => {
          const pause = pauses[reads++];
          if (pause) clock.advance(pause);
        });
        expect(data).toEqual(expected);

        // Released by time t: never more than the burst plus the rate times t.
        for (const r of releases) {
          expect(r.total).toBeLessThanOrEqual(burstBytes + (bytesPerSecond * r.t) / 1000 + 1e-6 * r.total + 1e-6);
        }
        // Total time: at least (N - burst) / rate; at most that plus pauses and one step.
        const n = expected.byteLength;
        const ideal = (Math.max(0, n - burstBytes) / bytesPerSecond) * 1000;
        const end = releases.at(-1)?.t ?? 0;
        if (n > 0) expect(end).toBeGreaterThanOrEqual(ideal - 1e-6);
        const paused = pauses.reduce((a, b) => a + b, 0);
        expect(end).toBeLessThanOrEqual(ideal + paused + stepMs + 1000 / bytesPerSecond + 2);
        // No busy loop: every sleep is at least 1 ms and at most one step (or one byte's time).
        for (const ms of clock.sleeps) {
          expect(ms).toBeGreaterThanOrEqual(1);
          expect(ms).toBeLessThanOrEqual(Math.max(stepMs, 1000 / bytesPerSecond) + 1);
        }
      }),
      { numRuns: 150 },
    );
  });

  it("N bytes at rate r take N / r: 70 000 bytes at V.92 (7000 B/s) take 10 s, in ~100 wakes", async () => {
    const clock = fakeTime();
    const chunks = patternChunks([65_536, 4464]);
    const { data, releases } = await drain(throttle(countingSource(chunks).stream, { bytesPerSecond: 7000, now: clock.now, sleep: clock.sleep }), clock.now);
    expect(data.byteLength).toBe(70_000);
    expect(releases.at(-1)!.t).toBeGreaterThanOrEqual(10_000);
    expect(releases.at(-1)!.t).toBeLessThanOrEqual(10_000 + 100);
    // One timer per 100 ms step (+ one per chunk boundary), not one per byte.
    expect(clock.sleeps.length).toBeLessThanOrEqual(10_000 / 100 + 4);
  });

  it("sends the burst unpaced first, then paces (nginx limit_rate_after)", async () => {
    const clock = fakeTime();
    const chunks = patternChunks([8000, 8000]);
    const { releases } = await drain(throttle(countingSource(chunks).stream, { bytesPerSecond: 1000, burstBytes: 10_000, now: clock.now, sleep: clock.sleep }), clock.now);
    const atZero = releases.filter((r) => r.t === 0).at(-1)!.total;
    expect(atZero).toBe(10_000);
    expect(releases.at(-1)!.t).toBeGreaterThanOrEqual(6000);
    expect(releases.at(-1)!.t).toBeLessThanOrEqual(6100);
  });

  it("paces slow presets too: V.21 (37.5 B/s) sends 300 bytes in 8 s", async () => {
    const clock = fakeTime();
    const { data, releases } = await drain(throttle(countingSource(patternChunks([300])).stream, { bytesPerSecond: 37.5, now: clock.now, sleep: clock.sleep }), clock.now);
    expect(data.byteLength).toBe(300);
    expect(releases.at(-1)!.t).toBeGreaterThanOrEqual(8000);
    expect(releases.at(-1)!.t).toBeLessThanOrEqual(8100);
  });

  it("splits big chunks into views of at most one step, never copies", async () => {
    const clock = fakeTime();
    const [chunk] = patternChunks([100_000]);
    const slices: Uint8Array[] = [];
    await drain(throttle(countingSource([chunk!]).stream, { bytesPerSecond: 7000, now: clock.now, sleep: clock.sleep }), clock.now, (s) => slices.push(s));
    expect(slices.length).toBeGreaterThan(100);
    for (const s of slices) {
      expect(s.buffer).toBe(chunk!.buffer);
      expect(s.byteLength).toBeLessThanOrEqual(700 + 7 + 1); // one 100 ms step + 1 ms of timer rounding
    }
  });

  it("saves up at most one second of rate while the reader pauses", async () => {
    const clock = fakeTime();
    const reader = throttle(countingSource(patternChunks([50_000])).stream, { bytesPerSecond: 1000, now: clock.now, sleep: clock.sleep }).getReader();
    await reader.read();
    clock.advance(30_000); // the client stops reading for 30 s
    const r = await reader.read();
    expect(r.value!.byteLength).toBeLessThanOrEqual((1000 * CATCH_UP_MS) / 1000);
    await reader.cancel();
  });
});

describe("throttle: back-pressure, cancel and errors", () => {
  it("reads upstream only when the consumer reads, one chunk at a time", async () => {
    const clock = fakeTime();
    const src = countingSource(patternChunks([2000, 2000, 2000]));
    const reader = throttle(src.stream, { bytesPerSecond: 10_000, now: clock.now, sleep: clock.sleep }).getReader();
    await settle();
    expect(src.pulls()).toBe(0);
    const first = await reader.read(); // 1000 B (one 100 ms step) of chunk 1
    expect(first.value!.byteLength).toBe(1000);
    await settle();
    expect(src.pulls()).toBe(1);
    await reader.read(); // the rest of chunk 1: still one upstream chunk held
    await settle();
    expect(src.pulls()).toBe(1);
    await reader.read();
    expect(src.pulls()).toBe(2);
    await reader.cancel();
  });

  it("cancel reaches upstream with its reason and stops reads, even mid-sleep", async () => {
    let wake: (() => void) | undefined;
    const sleep = () => new Promise<void>((r) => (wake = r));
    let t = 0;
    const src = countingSource(patternChunks([5000, 5000, 5000]));
    const reader = throttle(src.stream, { bytesPerSecond: 1000, now: () => t, sleep }).getReader();
    const pending = reader.read(); // waits for tokens: sleeping
    await settle();
    expect(wake).toBeDefined();
    await reader.cancel("client went away");
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(src.cancelled()).toEqual({ reason: "client went away" });
    const pullsAtCancel = src.pulls();
    t += 10_000;
    wake!(); // the timer fires after the cancel: nothing more happens
    await settle();
    expect(src.pulls()).toBe(pullsAtCancel);
  });

  it("an upstream error errors the throttled stream", async () => {
    const clock = fakeTime();
    const boom = new Error("origin reset");
    const src = countingSource(patternChunks([100]), boom);
    const reader = throttle(src.stream, { bytesPerSecond: 1e6, now: clock.now, sleep: clock.sleep }).getReader();
    expect((await reader.read()).value!.byteLength).toBe(100);
    await expect(reader.read()).rejects.toBe(boom);
  });

  it("an empty body closes at once", async () => {
    const clock = fakeTime();
    const { data } = await drain(throttle(countingSource([]).stream, { bytesPerSecond: 1, now: clock.now, sleep: clock.sleep }), clock.now);
    expect(data.byteLength).toBe(0);
  });
});

describe("throttle: real timers (upper bound on the rate only)", () => {
  it("20 KB at 100 KB/s take at least 150 ms", async () => {
    const chunks = patternChunks([16_384, 3616]);
    const start = Date.now();
    const { data } = await drain(throttle(countingSource(chunks).stream, { bytesPerSecond: 100_000 }), () => Date.now());
    const elapsed = Date.now() - start;
    expect(data).toEqual(concat(chunks));
    expect(elapsed).toBeGreaterThanOrEqual(150); // ideal 200 ms; tokens can only come slower
  });
});
