/** Section 1 and 1b of the scale model: a month of downloads through colos, R2 and fills. */
import { Buckets, chunksOf, clientBps, expo, fillBps, GiB, MiB, mulberry32, normal, num, pct, pick, poisson, section, table, tailBytes, zipfCdf } from "./common.mjs";
import { show } from "./flags.mjs";

/**
 * One pass over one request stream, served by several colo layouts at once. The fills
 * and the R2 state do not depend on the Cache API (a colo only ever caches a version R2
 * has or is filling, and a download joins a fill exactly when R2 has no pointer to the
 * current version), so they are simulated once and shared; each layout has its own
 * colos, per-colo caches and counters. Layout k picks its colo from the same uniform draw.
 *
 * A colo's Cache API holds, per file, the pointer (meta/<key>, the whole body inline for
 * a one-chunk file) and the chunks. Downloads read chunk 0 first, so the oldest chunk of
 * a file is its first: LRU eviction takes a file's chunks from the front, and a file can
 * be partly resident (its last k chunks); the pointer goes with the file's last chunk.
 */
export function simulateTraffic(p, layouts) {
  const rnd = mulberry32(p.seed);
  const T = p.days * 86400;
  const nf = p.files;
  const C = p["chunk-mib"] * MiB;
  const size = new Float64Array(nf);
  for (let f = 0; f < nf; f++) {
    const s = p["size-median-mib"] * MiB * Math.exp(p["size-sigma"] * normal(rnd));
    size[f] = Math.round(Math.min(8 * GiB, Math.max(MiB, s)));
  }
  const changes = [];
  for (let f = 0; f < nf; f++) {
    const n = poisson(rnd, p.changes);
    const times = [];
    for (let k = 0; k < n; k++) times.push(rnd() * T);
    changes.push(times.sort((a, b) => a - b));
  }
  const fileCdf = zipfCdf(nf, p.zipf);
  const cacheMax = p["cache-api-max-mib"] * MiB;
  const F = fillBps(p);
  const heartbeat = p["lease-s"] / 3;
  const stall = p["stall-s"];

  // Shared state and counters: versions, R2, fills, origin, Durable Objects.
  const ver = new Int32Array(nf);
  const chIdx = new Int32Array(nf);
  const r2Ver = new Int32Array(nf).fill(-1);
  const r2At = new Float64Array(nf); // storedAt of the committed version
  const firstCommit = new Float64Array(nf).fill(-1);
  const lastMetaWrite = new Float64Array(nf).fill(-Infinity);
  const fills = new Array(nf).fill(null);
  const seen = new Uint8Array(nf);
  const g = {
    downloads: 0, bytes: 0, fromFill: 0, fromFillBytes: 0, classA: 0, classB: 0, originGets: 0,
    originBytes: 0, joins: 0, reports: 0, renews: 0, fillAlarms: 0, fillDoSeconds: 0, doWrites: 0,
    limiterCalls: 0, downloadSeconds: 0, metaWrites: 0, metaWritesUnder1s: 0, peakCallsPerS: 0,
    storedByteSeconds: 0, distinct: 0, T,
  };
  // Per layout: colos, caches, what-if HEAD counts, and the R2 reads the cache decides.
  const L = layouts.map(({ colos, cacheGib, revalidate }) => {
    const windows = revalidate.filter((w) => w > 0);
    return {
      colos, cacheGib, windows,
      coloCdf: zipfCdf(colos, p["colo-zipf"]),
      capacity: cacheGib > 0 ? cacheGib * GiB : Infinity, // 0 = never evicts
      // LRU (Map in recency order) per colo of {v, k resident chunks, at}; without
      // eviction every touched version is wholly resident and flat arrays are enough.
      caches: cacheGib > 0 ? Array.from({ length: colos }, () => ({ map: new Map(), bytes: 0 })) : null,
      flatV: cacheGib > 0 ? null : new Int32Array(colos * nf).fill(-1),
      flatAt: cacheGib > 0 ? null : new Float64Array(colos * nf),
      // Last origin confirmation per (window, colo, file): the marker of markValidated().
      validated: windows.map(() => new Float64Array(colos * nf).fill(-Infinity)),
      heads: windows.map(() => 0),
      wholeHits: 0, cacheBytes: 0, r2Bytes: 0, classB: 0, chunkWarms: 0, chunksEvicted: 0,
    };
  });

  const entryOf = (l, col, f) => {
    if (l.flatV) return l.flatV[col * nf + f] >= 0 ? { v: l.flatV[col * nf + f], at: l.flatAt[col * nf + f], k: chunksOf(size[f], C) } : undefined;
    return l.caches[col].map.get(f);
  };
  /** Version v of f becomes wholly resident in the colo (pointer and every chunk), as most recent. */
  const cachePut = (l, col, f, v, at) => {
    const s = size[f];
    if (l.flatV) {
      l.flatV[col * nf + f] = v;
      l.flatAt[col * nf + f] = at;
      return;
    }
    const cache = l.caches[col];
    const old = cache.map.get(f);
    if (old) {
      cache.bytes -= tailBytes(s, C, old.k);
      cache.map.delete(f);
    }
    cache.map.set(f, { v, at, k: chunksOf(s, C) });
    cache.bytes += s;
    while (cache.bytes > l.capacity) {
      const [victim, e] = cache.map.entries().next().value;
      const vs = size[victim];
      const need = Math.ceil((cache.bytes - l.capacity) / C);
      const take = Math.min(e.k, need);
      if (take >= e.k) {
        cache.map.delete(victim);
        cache.bytes -= tailBytes(vs, C, e.k);
      } else {
        cache.bytes -= tailBytes(vs, C, e.k) - tailBytes(vs, C, e.k - take);
        e.k -= take;
      }
      l.chunksEvicted += take;
    }
  };
  /** A download in `col` of version v, `k` of whose chunks the colo holds: the rest come from R2. */
  const serve = (l, col, f, v, at, k, cacheable) => {
    const s = size[f];
    const n = chunksOf(s, C);
    const hit = Math.min(k, n);
    const hitBytes = tailBytes(s, C, hit);
    l.cacheBytes += hitBytes;
    l.r2Bytes += s - hitBytes;
    if (hit === n) l.wholeHits++;
    // store.ts chunkReader: a get per missing chunk to serve it, and (colo-hot files) one
    // more per chunk to warm this colo (warmChunk; one-chunk files: warmPointer's get).
    l.classB += (n - hit) * (cacheable ? 2 : 1);
    if (cacheable) {
      l.chunkWarms += n - hit;
      cachePut(l, col, f, v, at);
    }
  };
  const commit = (f, run) => {
    const s = size[f];
    const n = chunksOf(s, C);
    g.classA += n + 2; // filler.ts: one put per chunk; coordinator commit(): manifest + meta/<key>
    g.classB += 2; // first join: head meta/<key>; commit(): head of the pointer it replaces
    g.reports += n; // one report per stored chunk
    g.renews += n * Math.floor(C / F / (stall / 3)); // heartbeat only when one chunk takes a third of a lease
    // per report: chunk record + state; joins: the state at most once a minute
    // (TOUCH_PERSIST_MS); commit: state; forget: deleteAll
    g.doWrites += 2 * n + Math.ceil((run.end - run.start) / 60) + 2;
    g.metaWrites++;
    if (run.end - lastMetaWrite[f] < 1) g.metaWritesUnder1s++;
    lastMetaWrite[f] = run.end;
    if (run.ver >= r2Ver[f]) {
      r2Ver[f] = run.ver;
      r2At[f] = run.end;
    }
    if (firstCommit[f] < 0) firstCommit[f] = run.end;
    // Progress streams keep the object active while the fill runs; then one alarm per
    // lease period (the leases' expiry), and one an hour later that forgets the record.
    g.fillDoSeconds += run.end - run.start;
    g.fillAlarms += Math.ceil((run.end - run.start) / stall) + 1;
    for (const [k, c] of run.calls.m) run.calls.add(k, 0), (g.peakCallsPerS = Math.max(g.peakCallsPerS, c));
    fills[f] = null;
  };

  const rate = p.requests / T;
  let t = 0;
  for (let i = 0; i < p.requests; i++) {
    t += expo(rnd) / rate;
    const f = pick(fileCdf, rnd());
    const u = rnd();
    const speed = clientBps(rnd, p);
    while (chIdx[f] < changes[f].length && changes[f][chIdx[f]] <= t) {
      ver[f]++;
      chIdx[f]++;
    }
    if (fills[f] && fills[f].end <= t) commit(f, fills[f]);
    const v = ver[f];
    const s = size[f];
    const cacheable = s <= cacheMax;
    if (!seen[f]) (seen[f] = 1), g.distinct++;
    g.downloads++;
    g.bytes += s;
    const dur = s / speed;
    g.downloadSeconds += dur;
    // acquire, a renew per heartbeat, release; the one pending alarm fires at the earliest
    // expiry, finds the lease renewed and re-arms (about every lease - heartbeat/2), plus once after.
    g.limiterCalls += 3 + Math.floor(dur / heartbeat) + Math.floor(dur / (p["lease-s"] - heartbeat / 2));
    const stored = r2Ver[f]; // what R2's meta/<key> points at now
    let run = fills[f];
    if (stored !== v && run && run.ver !== v) commit(f, run), (run = null); // the older fill completes on its own
    const filler = stored !== v && !run;

    // serve-object.ts, per layout: Store.lookup (colo pointer, else R2 head), then chunks.
    for (const l of L) {
      const col = l.colos === 1 ? 0 : pick(l.coloCdf, u);
      const entry = cacheable ? entryOf(l, col, f) : undefined;
      let copyV = -1;
      let copyAt = 0;
      if (entry) (copyV = entry.v), (copyAt = entry.at);
      else {
        l.classB++; // Store.lookup: head meta/<key>
        if (stored >= 0) (copyV = stored), (copyAt = r2At[f]);
      }
      // What-if origin HEADs with REVALIDATE_SECONDS = w (0 = one HEAD per download).
      for (let k = 0; k < l.windows.length; k++) {
        const w = l.windows[k];
        const slot = col * nf + f;
        if (!(copyV >= 0 && (t - copyAt < w || t - l.validated[k][slot] < w))) {
          l.heads[k]++;
          l.validated[k][slot] = t;
        }
      }
      if (copyV === v) {
        // A pointer from R2 (no entry) makes this colo read every chunk from R2 once.
        serve(l, col, f, v, copyAt, entry ? entry.k : 0, cacheable);
        if (l.caches && entry) {
          const cache = l.caches[col];
          if (cache.map.get(f) === entry) cache.map.delete(f), cache.map.set(f, entry); // LRU touch
        }
        continue;
      }
      if (copyV >= 0) l.classB++; // changed: r2.meta(key), another node may have stored it
      if (stored === v) {
        serve(l, col, f, v, r2At[f], 0, cacheable);
        continue;
      }
      // Cold: the filler's chunks go to its colo's Cache API as they are stored
      // (Store.writeChunk); a follower elsewhere reads them from R2 once per colo.
      if (filler) {
        if (cacheable) cachePut(l, col, f, v, t);
      } else {
        const mine = entry && entry.v === v ? entry.k : 0;
        serve(l, col, f, v, t, mine, cacheable);
      }
    }
    if (stored === v) continue;

    // Not in R2 in this version: join the FillCoordinator of (key, version).
    g.joins++;
    g.fromFill++;
    g.fromFillBytes += s;
    if (!run) {
      g.originGets++;
      g.originBytes += s;
      run = fills[f] = { ver: v, start: t, end: t + s / F, calls: new Buckets() };
      const n = chunksOf(s, C);
      for (let c = 0; c < n; c++) run.calls.add(t + ((c + 1) * C) / F); // reports
    }
    run.calls.add(t);
  }
  for (let f = 0; f < nf; f++) if (fills[f]) commit(f, fills[f]);
  for (let f = 0; f < nf; f++) if (firstCommit[f] >= 0) g.storedByteSeconds += size[f] * Math.max(0, T - firstCommit[f]);
  return L.map((l) => ({ ...g, ...l, classB: g.classB + l.classB }));
}

function printTraffic(p, c) {
  const d = c.downloads;
  const doCalls = c.joins + c.reports + c.renews + c.fillAlarms;
  table(["figure", "value"], [
    ["downloads", num(d)],
    ["bytes served", `${num(c.bytes / 1e12, 1)} TB (mean file ${num(c.bytes / d / MiB)} MiB, ${p["chunk-mib"]} MiB chunks)`],
    ["distinct files requested", num(c.distinct)],
    ["downloads wholly from the colo's Cache API", pct(c.wholeHits, d)],
    ["bytes from the colo's Cache API", pct(c.cacheBytes, c.bytes)],
    ["bytes from R2 (chunks this colo lacked)", pct(c.r2Bytes, c.bytes)],
    ["bytes from the filler's own origin fetch", pct(c.bytes - c.cacheBytes - c.r2Bytes, c.bytes)],
    ["downloads that joined a fill", `${pct(c.fromFill, d)} of downloads, ${pct(c.fromFillBytes, c.bytes)} of bytes`],
    ["origin body GETs (one per version)", num(c.originGets)],
    ["origin body bytes", `${num(c.originBytes / 1e12, 2)} TB`],
    ["origin byte offload", pct(c.bytes - c.originBytes, c.bytes)],
    ["chunks warmed into a colo from R2", `${num(c.chunkWarms)} (${num(c.chunkWarms / Math.max(1, c.originGets), 1)} per fill), ${num(c.chunksEvicted)} evicted`],
    ["R2 Class B (reads)", `${num(c.classB)} (${num(c.classB / d, 2)} per download)`],
    ["R2 Class A (writes)", `${num(c.classA)} (${num(c.classA / Math.max(1, c.originGets), 1)} per fill)`],
    ["meta/<key> writes; within 1 s of the previous", `${num(c.metaWrites)}; ${num(c.metaWritesUnder1s)}`],
    ["FillCoordinator calls (join + report + renew + alarm)", `${num(c.joins)} + ${num(c.reports)} + ${num(c.renews)} + ${num(c.fillAlarms)} = ${num(doCalls / d, 3)} per download`],
    ["busiest FillCoordinator", `${num(c.peakCallsPerS)} req/s; file bytes through it: 0`],
    ["ConcurrencyLimiter calls", `${num(c.limiterCalls)} (${num(c.limiterCalls / d, 1)} per download)`],
    ["limiter objects alive on average", num(c.downloadSeconds / c.T, 1)],
  ], 2);
  console.log("");
  table(["REVALIDATE_SECONDS", "origin HEADs", "per download"], [
    ["0 (default)", num(d), "1.000"],
    ...c.windows.map((w, k) => [String(w), num(c.heads[k]), (c.heads[k] / d).toFixed(3)]),
  ]);
}

/** Sections 1 and 1b; returns the main run, which section 4 prices. */
export function trafficSections(p) {
  section(`1. Traffic: ${num(p.requests)} downloads over ${p.days} days, ${num(p.files)} files (Zipf ${p.zipf}), ${p.colos} colos (Zipf ${p["colo-zipf"]}), ${p["colo-cache-gib"]} GiB Cache API per colo, CACHE_API_MAX_BYTES ${show(p["cache-api-max-mib"])} MiB`);
  const sweepCache = p["sweep-cache-gib"] > 0 ? `${p["sweep-cache-gib"]} GiB LRU` : "no eviction";
  const [main, ...sweep] = simulateTraffic(p, [
    { colos: p.colos, cacheGib: p["colo-cache-gib"], revalidate: p.revalidate },
    ...p["colo-sweep"].map((n) => ({ colos: Math.max(1, Math.round(n)), cacheGib: p["sweep-cache-gib"], revalidate: [] })),
  ]);
  printTraffic(p, main);

  section(`1b. Colo locality: the same downloads spread over N colos, Cache API ${sweepCache} per colo (Cache API is per colo, R2 is global)`);
  table(["colos", "wholly from Cache API", "bytes from Cache API", "R2 Class B/download", "chunks warmed from R2", "origin GETs", "origin byte offload"],
    sweep.map((r) => [String(r.colos), pct(r.wholeHits, r.downloads), pct(r.cacheBytes, r.bytes), num(r.classB / r.downloads, 2), num(r.chunkWarms), num(r.originGets), pct(r.bytes - r.originBytes, r.bytes)]));
  return main;
}
