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
    let body = wrap(res.body);
    // workerd frames a JavaScript ReadableStream body as chunked and drops our
    // Content-Length; a FixedLengthStream keeps the header on the wire (and errors the
    // body if the byte count ever disagrees with it). See "FixedLengthStream" in
    // https://developers.cloudflare.com/workers/runtime-apis/streams/transformstream/
    const length = contentLength(res.headers);
    if (length !== undefined) body = body.pipeThrough(new FixedLengthStream(length));
    // A Response as init copies status, statusText and headers (and, in workerd, the
    // webSocket, cf and encodeBody fields): only the body changes.
    return new Response(body, res);
  };
}

/** Content-Length (RFC 9110 §8.6: 1*DIGIT) as a number, if present and usable. */
function contentLength(headers: Headers): number | undefined {
  const v = headers.get("content-length");
  if (v === null || !/^\d{1,15}$/.test(v)) return undefined;
  return Number(v);
}

/** One-off form of responseThrottle(rate, burstBytes)(res). */
export function throttleResponse(res: Response, rate: RateSpec, burstBytes = 0): Response {
  return responseThrottle(rate, burstBytes)(res);
}
