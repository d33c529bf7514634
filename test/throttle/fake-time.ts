/**
 * Injected time and sources for the throttle's own pacing logic (our pure code, not a
 * platform API): a clock that only moves when the throttle sleeps, and upstream streams
 * that count how often they are read.
 */

export interface FakeTime {
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  /** Sleeps requested so far, in ms. */
  readonly sleeps: number[];
  /** Move the clock, as a reader that pauses would see it. */
  advance(ms: number): void;
}

/** A clock that jumps forward by exactly the time asked for in each sleep. */
export function fakeTime(start = 0): FakeTime {
  let t = start;
  const sleeps: number[] = [];
  return {
    now: () => t,
    sleep: async (ms) => {
      sleeps.push(ms);
      t += ms;
    },
    sleeps,
    advance(ms) {
      t += ms;
    },
  };
}

export interface CountingSource {
  stream: ReadableStream<Uint8Array>;
  /** Chunks handed out so far. */
  readonly pulls: () => number;
  /** Reason given to cancel(), if cancelled. */
  readonly cancelled: () => { reason: unknown } | undefined;
}

/**
 * An upstream that hands out `chunks` one per read (highWaterMark 0: it never reads
 * ahead by itself), then closes or, with `fail`, errors.
 */
export function countingSource(chunks: readonly Uint8Array[], fail?: Error): CountingSource {
  let i = 0;
  let cancelled: { reason: unknown } | undefined;
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (i < chunks.length) {
          controller.enqueue(chunks[i++]!);
        } else if (fail) {
          controller.error(fail);
        } else {
          controller.close();
        }
      },
      cancel(reason) {
        cancelled = { reason };
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, pulls: () => i, cancelled: () => cancelled };
}

/** Deterministic bytes: chunk `c` of `sizes` filled with a pattern so order errors show. */
export function patternChunks(sizes: readonly number[]): Uint8Array[] {
  let n = 0;
  return sizes.map((size) => {
    const a = new Uint8Array(size);
    for (let j = 0; j < size; j++) a[j] = (n++ * 31 + 7) & 0xff;
    return a;
  });
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.byteLength, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}

export interface Release {
  t: number;
  bytes: number;
  total: number;
}

/** Read everything, noting the clock and the running total at each slice. */
export async function drain(stream: ReadableStream<Uint8Array>, now: () => number, onSlice?: (slice: Uint8Array) => void): Promise<{ data: Uint8Array; releases: Release[] }> {
  const reader = stream.getReader();
  const parts: Uint8Array[] = [];
  const releases: Release[] = [];
  let total = 0;
  for (;;) {
    const r = await reader.read();
    if (r.done) break;
    onSlice?.(r.value);
    parts.push(r.value);
    total += r.value.byteLength;
    releases.push({ t: now(), bytes: r.value.byteLength, total });
  }
  return { data: concat(parts), releases };
}
