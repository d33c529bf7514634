/**
 * Throttle accuracy through a proxy route: one download per rate, measured the way
 * throttle-bench.mjs measures src/throttle alone — bytes received after the first data
 * event divided by the time from that event to the last one inside the window (the
 * first slice and the connection set-up are excluded) — then the client hangs up.
 */
import http from "node:http";

/** The routes' throttles: spec as configured in PROXY_ROUTES, target in B/s. */
export const PROXY_RATES = Object.freeze([
  { key: "v92", spec: "V.92", label: "V.92", bytesPerSecond: 7000 },
  { key: "64k", spec: 64000, label: "64000 B/s", bytesPerSecond: 64_000 },
  { key: "1m", spec: 1_000_000, label: "1000000 B/s", bytesPerSecond: 1_000_000 },
]);

/**
 * GET `url` for `seconds` after its first data event.
 * @returns {Promise<{ bytesPerSecond: number, span: number, bytes: number, contentLength: string | undefined, transferEncoding: string | undefined }>}
 */
export function timedDownload(url, seconds, headers = {}) {
  return new Promise((resolve, reject) => {
    let settled = false;
    const req = http.get(url, { agent: false, headers }, (res) => {
      if (res.statusCode !== 200) {
        settled = true;
        req.destroy();
        return reject(new Error(`${url}: HTTP ${res.statusCode}`));
      }
      let t0;
      let tLast;
      let bytes = 0;
      let timer;
      const finish = () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.destroy();
        const span = (tLast - t0) / 1000;
        resolve({ bytesPerSecond: span > 0 ? bytes / span : Number.NaN, span, bytes, contentLength: res.headers["content-length"], transferEncoding: res.headers["transfer-encoding"] });
      };
      res.on("data", (d) => {
        const now = performance.now();
        if (t0 === undefined) {
          t0 = now;
          tLast = now;
          timer = setTimeout(finish, seconds * 1000);
        } else if (now - t0 <= seconds * 1000) {
          bytes += d.length;
          tLast = now;
        }
      });
      res.on("end", finish);
      res.on("error", () => {});
    });
    req.on("error", (e) => {
      if (!settled) {
        settled = true;
        reject(e);
      }
    });
  });
}
