/**
 * Non-blocking bandwidth throttling of a byte stream: mod_dialup for Workers.
 *
 * mod_dialup (httpd modules/test/mod_dialup.c) sends `bytes_per_second` bytes, then asks
 * the Event MPM for a timed callback one second later instead of holding a thread in a
 * sleep. We do the same with timers, in smaller steps (default 100 ms) so the output is
 * smooth, and with a token bucket so that late timers do not slow the average rate:
 *
 * - tokens start at `burstBytes` (sent unpaced, like nginx's `limit_rate_after`) and grow
 *   by `bytesPerSecond` per second of clock time, up to one second's worth
 *   (`CATCH_UP_MS`): a reader that pauses may then get up to a second's worth at once,
 *   as nginx's `limit_rate` allows (ngx_http_write_filter_module: `limit_rate *
 *   (ngx_time() - r->start_sec + 1)`), but never more;
 * - every slice sent costs its size in tokens, so bytes released by time t never exceed
 *   burstBytes + bytesPerSecond * t;
 * - the stream is pull-based (highWaterMark 0): nothing happens until the consumer reads.
 *   Then it waits (one timer) until there are tokens, reads ONE upstream chunk, and
 *   releases it as `subarray` slices of at most one step's worth of bytes, one timer wake
 *   per slice. Memory held: at most one upstream chunk. No busy loop: every wait is a
 *   timer of at least 1 ms. CPU: one wake per step, not per byte.
 * - cancel() cancels the upstream reader; an upstream error errors this stream.
 *
 * The bytes are never changed, added or dropped: a Content-Length stays true. Told the
 * body's length, the stream says so to workerd (`expectedLength`, which keeps a
 * Content-Length on the wire for a JavaScript stream) and holds the upstream to it: a
 * body that ends short or runs long errors instead of arriving with the wrong length.
 */

export interface ThrottleOptions {
  /** Sustained rate, bytes per second: finite and > 0 (fractions allowed: V.21 is 37.5). */
  bytesPerSecond: number;
  /** Bytes sent unpaced first, like nginx `limit_rate_after`. Default 0. */
  burstBytes?: number;
  /** Refill step in ms, 10..1000: one timer wake per step. Default 100. */
  stepMs?: number;
  /** Clock in ms (default Date.now; in Workers it advances across timers and I/O). */
  now?: () => number;
  /** Wait `ms` milliseconds (default: setTimeout). */
  sleep?: (ms: number) => Promise<void>;
}

/** Wraps one body of `expectedLength` bytes, if known; made by createThrottle with options checked once. */
export type Throttle = (body: ReadableStream<Uint8Array>, expectedLength?: number) => ReadableStream<Uint8Array>;

export const DEFAULT_STEP_MS = 100;
/** Tokens a paused reader can save up: one second of rate, as nginx allows. */
export const CATCH_UP_MS = 1000;

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Pacing {
  readonly rate: number; // bytes per ms
  readonly burst: number;
  readonly stepBytes: number;
  readonly capacity: number;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
}

/**
 * Check the options once and return a function that throttles bodies with them.
 * Throws RangeError naming the bad field: call it when configuring, not per request.
 */
export function createThrottle(opts: ThrottleOptions): Throttle {
  const { bytesPerSecond, burstBytes = 0, stepMs = DEFAULT_STEP_MS } = opts;
  if (typeof bytesPerSecond !== "number" || !Number.isFinite(bytesPerSecond) || bytesPerSecond <= 0) {
    throw new RangeError(`throttle: bytesPerSecond must be a finite number > 0, got ${String(bytesPerSecond)}`);
  }
  if (!Number.isSafeInteger(burstBytes) || burstBytes < 0) {
    throw new RangeError(`throttle: burstBytes must be a whole number >= 0, got ${String(burstBytes)}`);
  }
  if (typeof stepMs !== "number" || !(stepMs >= 10 && stepMs <= 1000)) {
    throw new RangeError(`throttle: stepMs must be between 10 and 1000, got ${String(stepMs)}`);
  }
  const rate = bytesPerSecond / 1000;
  // A slice is at least one byte: at V.21 (37.5 B/s) a 100 ms step would be 3.75 bytes.
  const stepBytes = Math.max(1, rate * stepMs);
  const pacing: Pacing = {
    rate,
    burst: burstBytes,
    stepBytes,
    capacity: Math.max(stepBytes, rate * CATCH_UP_MS),
    now: opts.now ?? (() => Date.now()),
    sleep: opts.sleep ?? defaultSleep,
  };
  return (body, expectedLength) => pace(body, pacing, expectedLength);
}

/** One-off form of createThrottle(opts)(body). */
export function throttle(body: ReadableStream<Uint8Array>, opts: ThrottleOptions): ReadableStream<Uint8Array> {
  return createThrottle(opts)(body);
}

function pace(body: ReadableStream<Uint8Array>, p: Pacing, expectedLength?: number): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let taken = 0; // bytes read from upstream, held to expectedLength
  let chunk: Uint8Array | undefined; // the one upstream chunk being released
  let offset = 0;
  let tokens = p.burst;
  let last: number | undefined; // clock at the last refill; starts at the first read
  let cancelled = false;

  function refill(): void {
    const t = p.now();
    if (last !== undefined && t > last && tokens < p.capacity) {
      tokens = Math.min(p.capacity, tokens + (t - last) * p.rate);
    }
    if (last === undefined || t > last) last = t;
  }

  /** Sleep until there are `want` tokens (want <= capacity, so this ends). */
  async function waitFor(want: number): Promise<void> {
    refill();
    while (tokens < want && !cancelled) {
      await p.sleep(Math.max(1, Math.ceil((want - tokens) / p.rate)));
      refill();
    }
  }

  return new ReadableStream<Uint8Array>(
    {
      expectedLength,
      async pull(controller) {
        while (chunk === undefined) {
          // Read upstream only once we may send at least a byte of it.
          await waitFor(1);
          if (cancelled) return;
          const r = await reader.read(); // rejects on an upstream error: errors this stream
          if (cancelled) return;
          if (r.done) {
            if (expectedLength !== undefined && taken !== expectedLength) throw new Error(`body ended after ${taken} of ${expectedLength} bytes`);
            controller.close();
            return;
          }
          taken += r.value.byteLength;
          if (expectedLength !== undefined && taken > expectedLength) {
            const e = new Error(`body is longer than its ${expectedLength} bytes`);
            await reader.cancel(e).catch(() => {});
            throw e;
          }
          if (r.value.byteLength > 0) {
            chunk = r.value;
            offset = 0;
          }
        }
        const remaining = chunk.byteLength - offset;
        await waitFor(Math.min(remaining, p.stepBytes));
        if (cancelled) return;
        const n = Math.min(remaining, Math.floor(tokens));
        // A view, not a copy: the upstream chunk is released piece by piece.
        controller.enqueue(chunk.subarray(offset, offset + n));
        tokens -= n;
        offset += n;
        if (offset >= chunk.byteLength) chunk = undefined;
      },
      cancel(reason) {
        cancelled = true;
        chunk = undefined;
        return reader.cancel(reason);
      },
    },
    // Pull only when the consumer reads: back-pressure reaches upstream unchanged.
    { highWaterMark: 0 },
  );
}
