// Request cases for comparing a server with nginx on Range (RFC 9110 §14)
// and conditional (§13) handling of static files. Plain data, reusable by
// any harness (check-range.mjs here, or an end-to-end test of the worker):
//
//   FILES  fixture files: { name, size, type, maxRanges? } with deterministic content
//          (fileBytes) and one fixed mtime (MTIME_MS); `type` is the
//          Content-Type nginx (start-nginx.mjs' config) sends for it.
//   CASES  { id, method, file, headers, differs? }. Header values may hold
//          placeholders for the file's validators, see materializeHeaders().
//          `differs` explains why our RFC 9110 behaviour deliberately
//          differs from nginx's for that case (the status is expected to differ).
//
// Harness note: nginx 1.22 closes the connection after a 412 produced by its
// not_modified filter although it sends "Connection: keep-alive"; use a new
// connection per request (or retry) when talking to nginx.

export const MTIME_MS = Date.UTC(2024, 2, 10, 12, 34, 56);

export const FILES = [
  { name: "empty.txt", size: 0, type: "text/plain" },
  { name: "one.txt", size: 1, type: "text/plain" },
  { name: "k.bin", size: 1000, type: "application/octet-stream" },
  { name: "k.dat", size: 1000, type: null },
  { name: "charset/k.txt", size: 1000, type: "text/plain; charset=utf-8" },
  // served under `max_ranges 1` (decideRange's opts.maxRanges)
  { name: "max1/k.bin", size: 1000, type: "application/octet-stream", maxRanges: 1 },
];

/** Deterministic content of a fixture of `size` bytes (not periodic in 256, all byte values). */
export function fileBytes(size) {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (i * 131 + (i >> 8) * 7 + 11) & 0xff;
  return out;
}

/** Range header values (null = no Range header). Comments give nginx's answer for 1000 bytes. */
export const RANGES = [
  null,
  // valid single ranges → 206
  "bytes=0-0", "bytes=0-499", "bytes=500-", "bytes=-500", "bytes=-1", "bytes=0-",
  "bytes=999-", "bytes=0-999", "bytes=0-1000", "bytes=999-5000", "bytes=-1000", "bytes=-5000",
  "BYTES=0-1", "Bytes=2-3", "bytes=1-0",
  // nothing selected → 416
  "bytes=-0", "bytes=1000-", "bytes=1000-2000", "bytes=5-3",
  // empty specs are skipped
  "bytes=5-3,0-1", "bytes=2000-3000,10-19", "bytes=-0,0-0",
  // syntax errors → 416, not ignored
  "bytes=abc", "bytes=--1", "bytes=-", "bytes=1-2-3", "bytes=0-1,", "bytes=0-1,,2-3",
  "bytes=,0-1", "bytes=0-1;x", "bytes=- 5", "bytes=0-\t1", "bytes=0x10-20", "bytes=+1-2",
  "bytes=1.5-2", "bytes=0--1",
  // not a bytes range → ignored, 200
  "bytes=", "bytes", "bytes 0-1", "items=0-1", "bytes =0-1", "0-1",
  // spaces (only SP) are skipped
  "bytes= 0-1", "bytes=0 - 1", "bytes= 0 - 1 , 5 - ", "bytes=0-1 ,2-3", "bytes=  -5",
  // several ranges → multipart/byteranges, in request order, not merged
  "bytes=0-1,3-4", "bytes=500-599,0-99", "bytes=0-9,0-9", "bytes=0-0,-1",
  "bytes=0-0,2-2,4-4,6-6,8-8", "bytes=0-499,500-999", "bytes=990-,-5,0-0",
  // overlapping ranges adding up past the length → 200 whole body
  "bytes=0-599,400-999", "bytes=0-,0-", "bytes=0-0,0-0",
  // 2^63-1 is the largest accepted number
  "bytes=9223372036854775807-", "bytes=9223372036854775808-", "bytes=0-9223372036854775807",
  "bytes=0-9223372036854775808", "bytes=-9223372036854775807", "bytes=-9223372036854775808",
  "bytes=000000000000000000000000001-2", "bytes=99999999999999999999-",
  // max_ranges (only /max1/ limits): counted while parsing, empty specs do not count
  "bytes=0-1,x", "bytes=0-1,3-4,x", "bytes=0-1,5-3", "bytes=5-3,0-1,x",
];

const RANGED = [null, "bytes=0-0", "bytes=0-1,3-4"];

// Placeholders: {etag} {weak-etag} {other-etag} {lm} {lm-1} {lm+1} {lm-rfc850} {lm-asctime}
const CONDITIONALS = [
  // If-None-Match (§13.1.2, weak comparison)
  { "If-None-Match": "{etag}" },
  { "If-None-Match": "{weak-etag}" },
  { "If-None-Match": "*" },
  { "If-None-Match": "{other-etag}" },
  { "If-None-Match": "{other-etag}, {etag}" },
  { "If-None-Match": "{other-etag} , W/{etag}" },
  // If-Modified-Since (§13.1.3); nginx runs with `if_modified_since before`
  { "If-Modified-Since": "{lm}" },
  { "If-Modified-Since": "{lm+1}" },
  { "If-Modified-Since": "{lm-1}" },
  { "If-Modified-Since": "{lm-rfc850}" },
  { "If-Modified-Since": "{lm-asctime}" },
  { "If-Modified-Since": "not a date" },
  // both: the RFC ignores IMS when INM is present
  { "If-None-Match": "{etag}", "If-Modified-Since": "{lm}" },
  { "If-None-Match": "{other-etag}", "If-Modified-Since": "{lm}" },
  {
    "If-None-Match": "{etag}", "If-Modified-Since": "{lm-1}",
    differs: "nginx needs both INM and IMS to say not modified (200); RFC 9110 §13.1.3 ignores IMS when INM is present (304)",
  },
  // If-Match (§13.1.1, strong comparison)
  { "If-Match": "{etag}" },
  { "If-Match": "*" },
  { "If-Match": "{other-etag}" },
  { "If-Match": "{weak-etag}" },
  { "If-Match": "{other-etag}, {etag}" },
  // If-Unmodified-Since (§13.1.4)
  { "If-Unmodified-Since": "{lm}" },
  { "If-Unmodified-Since": "{lm+1}" },
  { "If-Unmodified-Since": "{lm-1}" },
  {
    "If-Unmodified-Since": "not a date",
    differs: "nginx answers 412 to an invalid If-Unmodified-Since date; RFC 9110 §13.1.4 says to ignore it",
  },
  { "If-Match": "{other-etag}", "If-Unmodified-Since": "{lm+1}" },
  {
    "If-Match": "{etag}", "If-Unmodified-Since": "{lm-1}",
    differs: "nginx evaluates If-Unmodified-Since even when If-Match is present (412); RFC 9110 §13.1.4 ignores it (proceed)",
  },
  // mixes: §13.2.2 order
  { "If-Match": "{other-etag}", "If-None-Match": "{etag}" },
  { "If-Unmodified-Since": "{lm-1}", "If-None-Match": "{etag}" },
  { "If-Match": "{etag}", "If-None-Match": "{etag}" },
  { "If-Match": "{etag}", "If-Modified-Since": "{lm}" },
  // If-Range (§13.1.5): only meaningful with Range
  { "If-Range": "{etag}" },
  { "If-Range": "{other-etag}" },
  { "If-Range": "{weak-etag}" },
  { "If-Range": "{lm}" },
  { "If-Range": "{lm-1}" },
  { "If-Range": "{lm+1}" },
  { "If-Range": "{lm-rfc850}" },
  { "If-Range": "{lm-asctime}" },
  { "If-Range": "garbage" },
  { "If-Range": "{etag}", "If-None-Match": "{etag}" },
  { "If-Range": "{other-etag}", "If-Match": "{etag}" },
];

function buildCases() {
  const cases = [];
  for (const method of ["GET", "HEAD"]) {
    for (const file of FILES) {
      for (const range of RANGES) {
        cases.push({
          id: `${method} ${file.name} range=${JSON.stringify(range)}`,
          method,
          file: file.name,
          headers: range === null ? {} : { Range: range },
        });
      }
    }
    for (const file of ["k.bin", "one.txt", "k.dat"]) {
      for (const cond of CONDITIONALS) {
        for (const range of RANGED) {
          const { differs, ...headers } = cond;
          if (range !== null) headers.Range = range;
          const c = {
            id: `${method} ${file} ${JSON.stringify(headers)}`,
            method,
            file,
            headers,
          };
          if (differs) c.differs = differs;
          cases.push(c);
        }
      }
    }
  }
  return cases;
}

export const CASES = buildCases();

const DAYS_LONG = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

function rfc850(ms) {
  // "Sun, 10 Mar 2024 12:34:56 GMT" → "Sunday, 10-Mar-24 12:34:56 GMT"
  const [, day, mon, year, time] = new Date(ms).toUTCString().split(" ");
  return `${DAYS_LONG[new Date(ms).getUTCDay()]}, ${day}-${mon}-${year.slice(2)} ${time} GMT`;
}

function asctime(ms) {
  // → "Sun Mar 10 12:34:56 2024", day padded with a space
  const [dayName, day, mon, year, time] = new Date(ms).toUTCString().split(" ");
  return `${dayName.slice(0, 3)} ${mon} ${day.replace(/^0/, " ")} ${time} ${year}`;
}

/**
 * Replaces the placeholders in a case's header values with the validators
 * of the served file: `etag` as sent in ETag (e.g. "\"65edaa50-3e8\""),
 * `lastModifiedMs` its Last-Modified in epoch ms.
 */
export function materializeHeaders(headers, { etag, lastModifiedMs }) {
  const values = {
    "{etag}": etag,
    "{weak-etag}": `W/${etag}`,
    "{other-etag}": '"0000beef-1"',
    "{lm}": new Date(lastModifiedMs).toUTCString(),
    "{lm-1}": new Date(lastModifiedMs - 1000).toUTCString(),
    "{lm+1}": new Date(lastModifiedMs + 1000).toUTCString(),
    "{lm-rfc850}": rfc850(lastModifiedMs),
    "{lm-asctime}": asctime(lastModifiedMs),
  };
  const out = {};
  for (const [name, value] of Object.entries(headers)) {
    out[name] = value.replace(/\{[a-z0-9+-]+\}/g, (p) => values[p] ?? p);
  }
  return out;
}
