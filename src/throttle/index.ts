/**
 * mod_dialup for Workers: throttle response bodies to a modem standard or a byte rate.
 *
 *   const dialup = responseThrottle("V.92");          // checked once, at configuration
 *   return dialup(await fetch(req));                  // per request: wrap the body
 *
 * Status, status text and headers are kept. Content-Length stays correct: throttling
 * delays bytes, it never adds or drops any.
 */
import { parseRate } from "./presets";
import { contentLength } from "../http/content-length";
import { factsOf, sameFacts } from "../platform/answer-facts";
import { createThrottle, type ThrottleOptions } from "./throttle-stream";

export { findPreset, MODEM_PRESETS, parseRate, type ModemPreset, type ParsedRate } from "./presets";
export { CATCH_UP_MS, createThrottle, DEFAULT_STEP_MS, throttle, type Throttle, type ThrottleOptions } from "./throttle-stream";

/** A rate spec (see parseRate) or bytes per second. */
export type RateSpec = string | number;

export type ResponseThrottle = (res: Response) => Response;

/** Extra pacing options; the rate and burst come from the arguments. */
export type PacingOptions = Omit<ThrottleOptions, "bytesPerSecond" | "burstBytes">;

/**
 * Check `rate` (parseRate) and `burstBytes` once; return a function that throttles
 * response bodies. Throws RangeError with parseRate's reason on a bad rate.
 */
export function responseThrottle(rate: RateSpec, burstBytes = 0, pacing: PacingOptions = {}): ResponseThrottle {
  const parsed = parseRate(rate);
  if (!parsed.ok) throw new RangeError(`throttle: ${parsed.reason}`);
  const wrap = createThrottle({ ...pacing, bytesPerSecond: parsed.bytesPerSecond, burstBytes });
  return (res) => {
    // Nothing to pace: 204/304/HEAD-like null bodies, and 101 WebSocket upgrades.
    if (res.body === null) return res;
    // workerd frames a JavaScript ReadableStream body as chunked and drops our
    // Content-Length unless the stream states its length (expectedLength, see
    // throttle-stream.ts), which also holds the body to it. No FixedLengthStream behind
    // it: that would be one more native stage, and its buffers, per paced download.
    const body = wrap(res.body, contentLength(factsOf(res)) ?? undefined);
    // A Response as init copies status, statusText and headers (and, in workerd, the
    // webSocket, cf and encodeBody fields): only the body changes.
    return sameFacts(res, new Response(body, res));
  };
}

/** One-off form of responseThrottle(rate, burstBytes)(res). */
export function throttleResponse(res: Response, rate: RateSpec, burstBytes = 0): Response {
  return responseThrottle(rate, burstBytes)(res);
}
