/** Section 3 of the scale model: R2 writes per key for a file that keeps changing. */
import { Buckets, expo, fillBps, MiB, mulberry32, num, pct, section, table } from "./common.mjs";

function changingFile(p, every) {
  const rnd = mulberry32(p.seed * 17 + Math.round(every * 1000));
  const T = 3600;
  const S = p["hot-size-mib"] * MiB;
  const F = fillBps(p);
  const rps = p["hot-rps"];
  const writes = new Buckets();
  let version = 0, nextChange = every, fills = 0, requests = 0, stored = 0, superseded = 0;
  const runs = new Map(); // version -> end of its fill
  let committed = -1;
  for (let t = expo(rnd) / rps; t < T; t += expo(rnd) / rps) {
    while (nextChange <= t) (version++, (nextChange += every));
    requests++;
    for (const [v, end] of runs) if (end <= t) (writes.add(end), runs.delete(v), (committed = Math.max(committed, v)), v < version && superseded++);
    if (committed === version) stored++;
    else if (!runs.has(version)) (runs.set(version, t + S / F), fills++);
  }
  return { every, fills, requests, stored, superseded, peakWrites: writes.peak(), originGbPerH: (fills * S) / 1e9, offload: 1 - fills / requests };
}

export function r2KeySection(p) {
  section(`3. R2 writes per key: one ${p["hot-size-mib"]} MiB file changing every X s, ${p["hot-rps"]} req/s on it, 1 h (documented ~1 write/s per key)`);
  table(["changes every", "fills/h", "peak meta writes/s", "superseded fills", "served from stored copy", "origin GB/h", "byte offload"],
    p["change-every-s"].map((e) => {
      const r = changingFile(p, e);
      return [`${e} s`, num(r.fills), num(r.peakWrites), num(r.superseded), pct(r.stored, r.requests), num(r.originGbPerH, 1), pct(r.offload, 1)];
    }));
}
