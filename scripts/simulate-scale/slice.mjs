/** Section 1c of the scale model: what a cold Range request costs (slice fills). */
import { chunksOf, GiB, MiB, num, pct, section, table, tailBytes } from "./common.mjs";

/**
 * What one cold Range request costs (cold-read.ts joins for the chunks it covers; the
 * filler's lease is that run, one origin Range GET with If-Range), and what the full GET
 * that later completes the version adds: the remaining runs, then one read-back of every
 * chunk for the whole-file SHA-256 (filler.ts hashPass), which a fill in order never needs.
 */
function sliceFill(p, S, from, length) {
  const C = p["chunk-mib"] * MiB;
  const n = chunksOf(S, C);
  const first = Math.floor(from / C);
  const last = Math.floor((from + length - 1) / C);
  const k = last - first + 1;
  const runs = (first > 0 ? 1 : 0) + (last < n - 1 ? 1 : 0); // runs of missing chunks left
  return {
    origin: tailBytes(S, C, n - first) - tailBytes(S, C, n - last - 1),
    classA: k, joins: 1, reports: k,
    rest: { origin: S - (tailBytes(S, C, n - first) - tailBytes(S, C, n - last - 1)), runs, classA: n - k + 2, reports: n - k, hashReads: runs > 0 ? n : 0 },
  };
}

export function sliceSection(p) {
  const S = p["slice-file-gib"] * GiB;
  const C = p["chunk-mib"] * MiB;
  section(`1c. Slice fills: one cold Range of a never-requested ${p["slice-file-gib"]} GiB file (${num(chunksOf(S, C))} chunks of ${p["chunk-mib"]} MiB), then a full GET completes it`);
  const cases = [
    ["last MiB", S - MiB, MiB],
    ["first MiB", 0, MiB],
    ["2 MiB across a chunk boundary", Math.floor(chunksOf(S, C) / 2) * C - MiB, 2 * MiB],
    ["100 MiB in the middle", S / 2, 100 * MiB],
  ];
  table(["cold Range", "origin bytes", "of the file", "R2 puts", "coordinator calls", "then full GET: origin bytes", "origin GETs", "hash read-back gets"],
    cases.map(([name, from, length]) => {
      const r = sliceFill(p, S, from, length);
      return [name, `${num(r.origin / MiB)} MiB`, pct(r.origin, S), num(r.classA), num(r.joins + r.reports), `${num(r.rest.origin / MiB)} MiB`, num(r.rest.runs), num(r.rest.hashReads)];
    }));
  console.log(`origin bytes of slice + rest = the file once; a Range asks the origin only for the chunks it covers (Range + If-Range)`);
}
