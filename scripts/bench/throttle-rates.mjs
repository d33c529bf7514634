/**
 * The rates the throttle bench measures, shared by the bench worker (which creates one
 * throttle per rate when its module loads: options are checked once, not per request)
 * and the Node driver (which asks for them by key).
 */
export const BENCH_RATES = Object.freeze([
  { key: "v92", spec: "V.92" }, // 56 000 bit/s = 7000 B/s
  { key: "64k", spec: "64KB/s" }, // 64 000 B/s (SI prefixes, see parseRate)
  { key: "1m", spec: "1MB/s" },
  { key: "10m", spec: "10MB/s" },
]);
