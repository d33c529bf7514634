#!/usr/bin/env node
/**
 * Scale model of edge-offload-cdn on Cloudflare; docs/scaling.md quotes its output.
 *
 *   node scripts/simulate-scale.mjs [--flag=value ...]      (--help lists the flags)
 *
 * Plain Node ESM, node: builtins only, deterministic: every random draw comes from a
 * seeded mulberry32, so the same flags print the same figures on Node 20 and Node 24.
 * It simulates the request paths of src/ (not closed-form formulas):
 *   1. traffic: Zipf file choice, Zipf-weighted colos, per-colo LRU Cache API, one R2
 *      store, FillCoordinator fills with live followers, version changes, R2 operations
 *      counted per call site (cache-tier.ts, r2-tier.ts, fill-run.ts, serve-object.ts);
 *   2. Durable Object load: a cold flash crowd on one file (one FillCoordinator), client
 *      behaviours against one ConcurrencyLimiter, the base's BUSY gauge, and the
 *      singleton objects (HEALTH, FARMS, STATS) against the number of isolates;
 *   3. R2 writes per key for a file that changes at a given interval;
 *   4. cost per TB from the traffic run, with list prices as overridable flags.
 * Limits quoted (about 1,000 req/s per Durable Object, about 1 write/s per R2 key) are
 * Cloudflare's documented, approximate figures; prices are list prices: check current
 * pricing before relying on them.
 */

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
// Constants of the code being modelled (src/node/fill/*.ts, src/node/tiers/*.ts).
const QUEUE_LIMIT = 4 * MiB; // subscriber.ts: a follower further behind is detached
const LATE_JOIN_ORIGIN_MAX = 8 * MiB; // fill-run.ts: later joiners wait for the stored copy
const PART_SIZE = 8 * MiB; // part-writer.ts: multipart part size
const FILL_KEEPALIVE_S = 10; // fill-coordinator.ts: alarm while a fill runs
const DO_MEMORY_GB = 0.128; // Durable Objects are billed at 128 MB for duration

const FLAGS = [
  // name, default, help
  ["seed", 1, "PRNG seed (mulberry32)"],
  // traffic
  ["files", 5000, "distinct files in the catalogue"],
  ["requests", 1_000_000, "downloads simulated over --days"],
  ["days", 30, "simulated period (for version changes, REVALIDATE_SECONDS, storage)"],
  ["zipf", 1.0, "Zipf exponent of file popularity"],
  ["colos", 120, "colos that see traffic"],
  ["colo-zipf", 1.0, "Zipf exponent of traffic over colos"],
  ["colo-sweep", "1,10,50,120,300", "colo counts for the colo-locality table"],
  ["sweep-cache-gib", 0, "Cache API per colo in the colo-locality table (0 = never evicts: only the per-colo first copies)"],
  ["size-median-mib", 100, "median file size (log-normal)"],
  ["size-sigma", 1.5, "log-normal sigma of file sizes (clamped to 1 MiB .. 8 GiB)"],
  ["cache-api-max-mib", 256, "CACHE_API_MAX_BYTES in MiB (default of node-config.ts)"],
  ["colo-cache-gib", 10, "Cache API bytes one colo keeps for us before evicting (LRU, 0 = never; not published by Cloudflare)"],
  ["changes", 0.3, "expected new versions per file over --days (Poisson)"],
  ["fill-mbps", 400, "speed of one fill (origin GET -> R2 multipart), Mbit/s"],
  ["client-mbps", 40, "median client download speed, Mbit/s (log-normal, sigma 0.8)"],
  ["lease-s", 30, "LEASE_SECONDS (heartbeat every third of it)"],
  ["revalidate", "0,60,3600", "REVALIDATE_SECONDS values for the origin HEAD table"],
  // Durable Objects
  ["do-ceiling", 1000, "requests/s one Durable Object handles (Cloudflare's documented soft limit, approximate)"],
  ["crowd", "1000,10000,30000,60000,120000", "cold clients of one new file in the flash-crowd table"],
  ["crowd-window-s", 60, "seconds over which the flash crowd arrives (uniformly)"],
  ["crowd-size-mib", 1024, "size of the flash-crowd file"],
  ["isolates", "100,500,1000,2000,5000,10000", "isolate counts for the singleton-object table"],
  ["worker-rps", 5000, "requests/s over all isolates in the singleton table (base: HEALTH, FARMS; nodes + base: STATS)"],
  ["health-ttl-ms", 2000, "health view TTL (VIEW_TTL_MS, src/health/view.ts)"],
  ["farm-ttl-ms", 2000, "farm registry view TTL (FARM_VIEW_TTL_MS, src/farms/runtime.ts)"],
  ["stats-flush-s", 10, "STATS_FLUSH_SECONDS (src/stats/flush-seconds.ts); an isolate's first answer flushes at once"],
  ["busy-rps", "10,100,500,1000,2000", "eligible base GETs/s for the BUSY gauge table"],
  ["busy-threshold", 200, "OFFLOAD_WHEN_BUSY for the BUSY gauge table"],
  // R2 per-key writes
  ["change-every-s", "0.5,1,5,60,3600", "version-change intervals for the R2 per-key table"],
  ["hot-rps", 20, "requests/s on the changing file in the R2 per-key table"],
  ["hot-size-mib", 100, "size of the changing file"],
  // prices (USD, list prices used as defaults; check current pricing)
  ["price-r2-gb-month", 0.015, "R2 Standard storage, $ per GB-month"],
  ["price-r2-class-a", 4.5, "R2 Class A operations, $ per million"],
  ["price-r2-class-b", 0.36, "R2 Class B operations, $ per million"],
  ["price-r2-egress-gb", 0, "R2 egress, $ per GB (free)"],
  ["price-worker-req", 0.3, "Workers requests, $ per million"],
  ["price-worker-cpu", 0.02, "Workers CPU, $ per million CPU-ms"],
  ["price-do-req", 0.15, "Durable Object requests, $ per million"],
  ["price-do-gbs", 12.5, "Durable Object duration, $ per million GB-s"],
  ["origin-egress-gb", "0.05,0.09", "origin (cloud) egress, $ per GB, one column each"],
  ["cpu-ms-base", 1, "CPU ms per base request (assumed; bench-base measured ~0.3 ms locally)"],
  ["cpu-ms-node", 2, "CPU ms per node download (assumed; bodies are native pipes)"],
  ["do-call-ms", 5, "billed wall time per short Durable Object call, ms (assumed)"],
];

// ---------------------------------------------------------------- flags

function parseFlags(args) {
  const p = {};
  for (const [name, def] of FLAGS) p[name] = def;
  for (const a of args) {
    if (a === "--help" || a === "-h") {
      console.log("usage: node scripts/simulate-scale.mjs [--flag=value ...]\n");
      for (const [name, def, help] of FLAGS) console.log(`  --${name}=${def}`.padEnd(44) + help);
      process.exit(0);
    }
    const m = /^--([a-z0-9-]+)=(.*)$/.exec(a);
    if (!m || !(m[1] in p)) {
      console.error(`unknown argument ${a} (try --help)`);
      process.exit(2);
    }
    const def = p[m[1]];
    if (typeof def === "number") {
      const n = Number(m[2]);
      if (!Number.isFinite(n) || n < 0) {
        console.error(`--${m[1]} needs a non-negative number, got ${m[2]}`);
        process.exit(2);
      }
      p[m[1]] = n;
    } else {
      if (!/^[0-9.]+(,[0-9.]+)*$/.test(m[2])) {
        console.error(`--${m[1]} needs comma-separated numbers, got ${m[2]}`);
        process.exit(2);
      }
      p[m[1]] = m[2];
    }
  }
  for (const [name, def] of FLAGS) if (typeof def === "string") p[name] = String(p[name]).split(",").map(Number);
  for (const k of ["files", "requests", "colos"]) p[k] = Math.max(1, Math.round(p[k]));
  for (const k of ["days", "fill-mbps", "client-mbps", "lease-s", "do-ceiling", "crowd-window-s", "worker-rps", "hot-rps", "price-r2-gb-month"]) {
    if (!(p[k] > 0)) {
      console.error(`--${k} must be greater than 0`);
      process.exit(2);
    }
  }
  return p;
}

// ---------------------------------------------------------------- randomness and helpers

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const expo = (rnd) => -Math.log(1 - rnd());
function normal(rnd) {
  const u = 1 - rnd();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rnd());
}
function poisson(rnd, mean) {
  const l = Math.exp(-mean);
  let k = 0;
  for (let prod = rnd(); prod > l; prod *= rnd()) k++;
  return k;
}
function zipfCdf(n, s) {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) cdf[i] = sum += 1 / (i + 1) ** s;
  for (let i = 0; i < n; i++) cdf[i] /= sum;
  return cdf;
}
function pick(cdf, u) {
  let lo = 0;
  let hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cdf[mid] < u) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
const clientBps = (rnd, p) => (p["client-mbps"] * 1e6 * Math.exp(0.8 * normal(rnd))) / 8;
const fillBps = (p) => (p["fill-mbps"] * 1e6) / 8;

/** Requests per 1-s bucket: mean and peak. */
class Buckets {
  constructor() {
    this.m = new Map();
  }
  add(t, n = 1) {
    const k = Math.floor(t);
    this.m.set(k, (this.m.get(k) ?? 0) + n);
  }
  peak(from = -Infinity, to = Infinity) {
    let best = 0;
    for (const [k, v] of this.m) if (k >= from && k < to && v > best) best = v;
    return best;
  }
}

/** Binary min-heap of [time, ...payload] events. */
class Heap {
  constructor() {
    this.a = [];
  }
  get size() {
    return this.a.length;
  }
  push(e) {
    const a = this.a;
    a.push(e);
    for (let i = a.length - 1; i > 0; ) {
      const j = (i - 1) >> 1;
      if (a[j][0] <= a[i][0]) break;
      [a[i], a[j]] = [a[j], a[i]];
      i = j;
    }
  }
  pop() {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0) {
      a[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l][0] < a[m][0]) m = l;
        if (r < a.length && a[r][0] < a[m][0]) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m], a[i]];
        i = m;
      }
    }
    return top;
  }
}

function num(x, d = 0) {
  if (!Number.isFinite(x)) return String(x);
  const [i, f] = Math.abs(x).toFixed(d).split(".");
  const s = i.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return (x < 0 && Number(x.toFixed(d)) !== 0 ? "-" : "") + s + (f ? `.${f}` : "");
}
const pct = (a, b) => `${num(b === 0 ? 0 : (100 * a) / b, 1)} %`;
const usd = (x, d = 2) => `$${num(x, d)}`;

function table(header, rows, leftColumns = 1) {
  const all = [header, ...rows].map((r) => r.map(String));
  const w = header.map((_, c) => Math.max(...all.map((r) => r[c].length)));
  const line = (r) => r.map((v, c) => (c < leftColumns ? v.padEnd(w[c]) : v.padStart(w[c]))).join("  ").trimEnd();
  console.log(line(all[0]));
  console.log(w.map((n) => "-".repeat(n)).join("  "));
  for (const r of all.slice(1)) console.log(line(r));
}
function section(title) {
  console.log(`\n== ${title}`);
}

// ---------------------------------------------------------------- 1. traffic (Cache API, R2, origin)

/**
 * One pass over one request stream, served by several colo layouts at once. The fills
 * and the R2 state do not depend on the Cache API (a colo only ever caches a version R2
 * already has, so a download joins a fill exactly when R2 lacks the current version),
 * so they are simulated once and shared; each layout has its own colos, per-colo LRU
 * caches and counters. Layout k picks its colo from the same uniform draw.
 */
function simulateTraffic(p, layouts) {
  const rnd = mulberry32(p.seed);
  const T = p.days * 86400;
  const nf = p.files;
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
    originBytes: 0, rangeGets: 0, rangeBytes: 0, follows: 0, fillAlarms: 0, fillDoSeconds: 0,
    detached: 0, waited: 0, limiterCalls: 0, downloadSeconds: 0, metaWrites: 0, metaWritesUnder1s: 0,
    peakFollowsPerS: 0, storedByteSeconds: 0, distinct: 0, T,
  };
  // Per layout: colos, caches, what-if HEAD counts, and the R2 reads the cache decides.
  const L = layouts.map(({ colos, cacheGib, revalidate }) => {
    const windows = revalidate.filter((w) => w > 0);
    return {
      colos, cacheGib, windows,
      coloCdf: zipfCdf(colos, p["colo-zipf"]),
      capacity: cacheGib > 0 ? cacheGib * GiB : Infinity, // 0 = never evicts
      // LRU (Map in recency order) per colo; without eviction, flat arrays are enough.
      caches: cacheGib > 0 ? Array.from({ length: colos }, () => ({ map: new Map(), bytes: 0 })) : null,
      flatV: cacheGib > 0 ? null : new Int32Array(colos * nf).fill(-1),
      flatAt: cacheGib > 0 ? null : new Float64Array(colos * nf),
      // Last origin confirmation per (window, colo, file): the marker of markValidated().
      validated: windows.map(() => new Float64Array(colos * nf).fill(-Infinity)),
      heads: windows.map(() => 0),
      cacheHit: 0, cacheHitBytes: 0, r2Miss: 0, r2MissBytes: 0, r2Big: 0, r2BigBytes: 0,
      classB: 0, cacheFills: 0, evictions: 0,
    };
  });

  const cachePut = (l, col, f, v, at) => {
    l.cacheFills++;
    if (l.flatV) {
      l.flatV[col * nf + f] = v;
      l.flatAt[col * nf + f] = at;
      return;
    }
    const cache = l.caches[col];
    if (cache.map.has(f)) {
      cache.bytes -= size[f];
      cache.map.delete(f);
    }
    cache.map.set(f, { v, at });
    cache.bytes += size[f];
    while (cache.bytes > l.capacity) {
      const [victim] = cache.map.keys();
      cache.map.delete(victim);
      cache.bytes -= size[victim];
      l.evictions++;
    }
  };
  const commit = (f, run) => {
    const s = size[f];
    g.classA += s < PART_SIZE ? 1 : 2 + Math.ceil(s / PART_SIZE); // put, or create + parts + complete
    g.classB += 1; // commit(): head of the previous meta pointer
    g.classA += 1; // the meta/<path> pointer
    g.metaWrites++;
    if (run.end - lastMetaWrite[f] < 1) g.metaWritesUnder1s++;
    lastMetaWrite[f] = run.end;
    if (run.ver >= r2Ver[f]) {
      r2Ver[f] = run.ver;
      r2At[f] = run.end;
    }
    if (firstCommit[f] < 0) firstCommit[f] = run.end;
    g.fillDoSeconds += run.doEnd - run.start;
    g.fillAlarms += 1 + Math.ceil((run.end - run.start) / FILL_KEEPALIVE_S);
    g.peakFollowsPerS = Math.max(g.peakFollowsPerS, run.calls.peak());
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
    if (!seen[f]) (seen[f] = 1), g.distinct++;
    g.downloads++;
    g.bytes += s;
    const dur = s / speed;
    g.downloadSeconds += dur;
    // acquire, a renew per heartbeat, release; the one pending alarm fires at the earliest
    // expiry, finds the lease renewed and re-arms (about every lease - heartbeat/2), plus once after.
    g.limiterCalls += 3 + Math.floor(dur / heartbeat) + Math.floor(dur / (p["lease-s"] - heartbeat / 2));
    const stored = r2Ver[f]; // what R2's meta/<path> points at now

    // serve-object.ts, per layout: Cache API, else R2 (and warm this colo's cache from R2).
    for (const l of L) {
      const col = l.colos === 1 ? 0 : pick(l.coloCdf, u);
      const cache = l.flatV ? null : l.caches[col];
      const entry = cache ? cache.map.get(f) : l.flatV[col * nf + f] >= 0 ? { v: l.flatV[col * nf + f], at: l.flatAt[col * nf + f] } : undefined;
      let copyV = -1;
      let copyAt = 0;
      if (entry) (copyV = entry.v), (copyAt = entry.at);
      else {
        l.classB++; // r2.lookup: head meta/<path>
        if (stored >= 0) {
          copyV = stored;
          copyAt = r2At[f];
          if (s <= cacheMax) (l.classB++, cachePut(l, col, f, stored, copyAt)); // warmCache: get
        }
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
        if (entry) {
          if (cache) cache.map.delete(f), cache.map.set(f, entry); // LRU touch
          l.cacheHit++;
          l.cacheHitBytes += s;
        } else {
          l.classB++; // get for serving
          if (s > cacheMax) (l.r2Big++, (l.r2BigBytes += s));
          else (l.r2Miss++, (l.r2MissBytes += s));
        }
        continue;
      }
      if (copyV >= 0) {
        l.classB++; // changed: r2.meta(key), another node may have stored it
        if (stored === v) {
          if (s <= cacheMax) (l.classB++, cachePut(l, col, f, v, r2At[f]));
          l.classB++;
          if (s > cacheMax) (l.r2Big++, (l.r2BigBytes += s));
          else (l.r2Miss++, (l.r2MissBytes += s));
        }
      }
    }
    if (stored === v) continue;

    // Not in R2 in this version: follow the FillCoordinator of (key, version).
    g.follows++;
    g.fromFill++;
    g.fromFillBytes += s;
    let run = fills[f];
    if (run && run.ver !== v) commit(f, run), (run = null); // the older fill completes on its own
    let offset = 0;
    if (!run) {
      g.classB++; // currentRun: head meta/<path>
      g.originGets++;
      g.originBytes += s;
      run = fills[f] = { ver: v, start: t, end: t + s / F, doEnd: t + s / F, calls: new Buckets() };
    } else {
      offset = (t - run.start) * F;
      if (offset <= LATE_JOIN_ORIGIN_MAX) (g.rangeGets++, (g.rangeBytes += offset), (g.originBytes += offset));
      else (g.waited++, g.classB++); // reads the stored copy (inside the object) after completion
    }
    run.calls.add(t);
    if (offset <= LATE_JOIN_ORIGIN_MAX && speed < F && s - offset > QUEUE_LIMIT) (g.detached++, g.classB++);
    run.doEnd = Math.max(run.doEnd, run.end, t + s / speed);
  }
  for (let f = 0; f < nf; f++) if (fills[f]) commit(f, fills[f]);
  for (let f = 0; f < nf; f++) if (firstCommit[f] >= 0) g.storedByteSeconds += size[f] * Math.max(0, T - firstCommit[f]);
  return L.map((l) => ({ ...g, ...l, classB: g.classB + l.classB }));
}

function printTraffic(p, c) {
  const d = c.downloads;
  table(["figure", "value"], [
    ["downloads", num(d)],
    ["bytes served", `${num(c.bytes / 1e12, 1)} TB (mean file ${num(c.bytes / d / MiB)} MiB)`],
    ["distinct files requested", num(c.distinct)],
    ["served from the colo's Cache API", `${pct(c.cacheHit, d)} of downloads, ${pct(c.cacheHitBytes, c.bytes)} of bytes`],
    [`served from R2, file <= CACHE_API_MAX_BYTES`, `${pct(c.r2Miss, d)} of downloads, ${pct(c.r2MissBytes, c.bytes)} of bytes`],
    [`served from R2, file > CACHE_API_MAX_BYTES`, `${pct(c.r2Big, d)} of downloads, ${pct(c.r2BigBytes, c.bytes)} of bytes`],
    ["followed a live fill", `${pct(c.fromFill, d)} of downloads, ${pct(c.fromFillBytes, c.bytes)} of bytes`],
    ["origin body GETs (fills, one per version)", num(c.originGets)],
    ["origin Range GETs (late joiners <= 8 MiB)", num(c.rangeGets)],
    ["origin body bytes", `${num(c.originBytes / 1e12, 2)} TB`],
    ["origin byte offload", pct(c.bytes - c.originBytes, c.bytes)],
    ["Cache API fills from R2 (all colos)", `${num(c.cacheFills)} (${num(c.cacheFills / Math.max(1, c.originGets), 1)} per origin fill), ${num(c.evictions)} evictions`],
    ["R2 Class B (reads)", `${num(c.classB)} (${num(c.classB / d, 2)} per download)`],
    ["R2 Class A (writes)", `${num(c.classA)} (${num(c.classA / Math.max(1, c.originGets), 1)} per fill)`],
    ["meta/<path> writes; within 1 s of the previous", `${num(c.metaWrites)}; ${num(c.metaWritesUnder1s)}`],
    ["FillCoordinator calls (follow + alarms)", `${num(c.follows)} + ${num(c.fillAlarms)}; busiest fill ${num(c.peakFollowsPerS)} req/s`],
    ["ConcurrencyLimiter calls", `${num(c.limiterCalls)} (${num(c.limiterCalls / d, 1)} per download)`],
    ["limiter objects alive on average", num(c.downloadSeconds / c.T, 1)],
  ], 2);
  console.log("");
  table(["REVALIDATE_SECONDS", "origin HEADs", "per download"], [
    ["0 (default)", num(d), "1.000"],
    ...c.windows.map((w, k) => [String(w), num(c.heads[k]), (c.heads[k] / d).toFixed(3)]),
  ]);
}

// ---------------------------------------------------------------- 2a. flash crowd on one FillCoordinator

function flashCrowd(p, n) {
  const rnd = mulberry32(p.seed * 7919 + n);
  const W = p["crowd-window-s"];
  const S = p["crowd-size-mib"] * MiB;
  const F = fillBps(p);
  const times = new Float64Array(n);
  for (let i = 0; i < n; i++) times[i] = rnd() * W;
  times.sort();
  const t0 = times[0];
  const end = t0 + S / F;
  const calls = new Buckets();
  const out = new Float64Array(Math.ceil(W + 4000)); // bytes/s leaving the object, per second
  const stream = (from, to, bps) => {
    for (let k = Math.floor(from); k < Math.ceil(to) && k < out.length; k++) {
      out[k] += bps * (Math.min(to, k + 1) - Math.max(from, k));
    }
  };
  let follows = 0, live = 0, detached = 0, waited = 0, rangeGets = 0, rangeBytes = 0, after = 0, doEnd = end;
  for (let i = 0; i < n; i++) {
    const t = times[i];
    const speed = clientBps(rnd, p);
    if (t >= end) {
      after++; // the copy is in R2: Cache API / R2, no Durable Object
      continue;
    }
    follows++;
    calls.add(t);
    const offset = (t - t0) * F;
    if (offset > LATE_JOIN_ORIGIN_MAX) {
      waited++;
      stream(end, end + S / speed, speed);
      doEnd = Math.max(doEnd, end + S / speed);
      continue;
    }
    if (offset > 0) (rangeGets++, (rangeBytes += offset));
    if (speed >= F || S - offset <= QUEUE_LIMIT) {
      live++;
      stream(t, end, Math.min(speed, F));
      continue;
    }
    detached++;
    const until = t + QUEUE_LIMIT / (F - speed);
    stream(t, until, speed);
    const got = offset + (until - t) * speed;
    stream(end, end + (S - got) / speed, speed);
    doEnd = Math.max(doEnd, end + (S - got) / speed);
  }
  let peakOut = 0;
  for (const v of out) if (v > peakOut) peakOut = v;
  return { n, W, S, fillS: S / F, follows, peak: calls.peak(), live, detached, waited, rangeGets, rangeBytes, after, doEnd: doEnd - t0, peakGbps: (peakOut * 8) / 1e9 };
}

// ---------------------------------------------------------------- 2b. one ConcurrencyLimiter vs client behaviours

function limiterBehaviour(p, { conns, bytesPerConn, bpsPerConn, retryS, limit }) {
  const heap = new Heap();
  const calls = new Buckets();
  const heartbeat = p["lease-s"] / 3;
  const horizon = 600;
  let active = 0, done = 0, total = 0;
  for (let i = 0; i < conns; i++) heap.push([i * 0.01, "try"]);
  while (heap.size > 0) {
    const [t, kind, until] = heap.pop();
    if (t > horizon) break;
    total++;
    calls.add(t);
    if (kind === "try") {
      if (active < limit) {
        active++;
        const end = t + bytesPerConn / bpsPerConn;
        for (let r = t + heartbeat; r < end; r += heartbeat) heap.push([r, "renew"]);
        heap.push([end, "release", end]);
      } else heap.push([t + retryS, "try"]);
    } else if (kind === "release") {
      active--;
      done++;
    }
  }
  const seconds = Math.min(horizon, Math.max(...[...calls.m.keys()]) + 1);
  return { peak: calls.peak(), mean: total / seconds, done, conns };
}

// ---------------------------------------------------------------- 2c. BUSY gauge (one object for the whole base)

function busyGauge(p, rps) {
  const rnd = mulberry32(p.seed * 31 + rps);
  const heap = new Heap();
  const calls = new Buckets();
  const heartbeat = p["lease-s"] / 3;
  const T = 300;
  let active = 0, granted = 0, arrivals = 0;
  heap.push([expo(rnd) / rps, "get"]);
  while (heap.size > 0) {
    const [t, kind] = heap.pop();
    if (t > T) continue;
    if (kind === "get") heap.push([t + expo(rnd) / rps, "get"]);
    calls.add(t);
    if (kind === "get") {
      arrivals++;
      if (active < p["busy-threshold"]) {
        active++;
        granted++;
        const s = Math.min(8 * GiB, Math.max(MiB, p["size-median-mib"] * MiB * Math.exp(p["size-sigma"] * normal(rnd))));
        const end = t + s / clientBps(rnd, p);
        for (let r = t + heartbeat; r < Math.min(end, T); r += heartbeat) heap.push([r, "renew"]);
        heap.push([end, "release"]);
      }
    } else if (kind === "release") active--;
  }
  let total = 0;
  for (const [k, v] of calls.m) if (k >= 60 && k < T) total += v;
  return { rps, mean: total / (T - 60), peak: calls.peak(60, T), servedLocally: granted / arrivals };
}

// ---------------------------------------------------------------- 2d. singleton objects vs isolate count

function singletons(p, isolates) {
  const rnd = mulberry32(p.seed * 131 + isolates);
  const R = p["worker-rps"];
  const T = 70;
  const warm = 10;
  const hTtl = p["health-ttl-ms"] / 1000;
  const fTtl = p["farm-ttl-ms"] / 1000;
  const flush = p["stats-flush-s"];
  const colos = p.colos;
  const view = new Float64Array(isolates).fill(-Infinity);
  const farm = new Float64Array(isolates).fill(-Infinity);
  const stats = new Float64Array(isolates).fill(-Infinity);
  const coloView = new Float64Array(colos).fill(-Infinity);
  const health = new Buckets(), farms = new Buckets(), st = new Buckets(), perColo = new Buckets();
  for (let t = expo(rnd) / R; t < T; t += expo(rnd) / R) {
    const i = Math.floor(rnd() * isolates);
    if (t - view[i] > hTtl) {
      view[i] = t;
      health.add(t);
      const col = i % colos; // variant: isolates of a colo share one copy in the colo's Cache API
      if (t - coloView[col] > hTtl) (coloView[col] = t), perColo.add(t);
    }
    if (t - farm[i] > fTtl) (farm[i] = t), farms.add(t);
    // recorder.ts: flush when STATS_FLUSH_SECONDS passed since the last one (the first answer
    // at once); the early flush past 200 files per batch is not modelled.
    if (t - stats[i] >= flush) (stats[i] = t), st.add(t);
  }
  const mean = (b) => {
    let s = 0;
    for (const [k, v] of b.m) if (k >= warm && k < T) s += v;
    return s / (T - warm);
  };
  return { isolates, perIsolate: R / isolates, health: mean(health), healthPeak: health.peak(warm, T), farms: mean(farms), stats: mean(st), perColo: mean(perColo) };
}

// ---------------------------------------------------------------- 3. R2 writes per key for a changing file

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

// ---------------------------------------------------------------- main

const p = parseFlags(process.argv.slice(2));
console.log("# simulate-scale: edge-offload-cdn on Cloudflare (deterministic model, not a measurement)");
console.log("flags (override with --name=value, --help lists them):");
for (const [name] of FLAGS) console.log(`  --${name}=${Array.isArray(p[name]) ? p[name].join(",") : p[name]}`);
console.log(`code constants: follower queue ${QUEUE_LIMIT / MiB} MiB, late-join origin range <= ${LATE_JOIN_ORIGIN_MAX / MiB} MiB, R2 part ${PART_SIZE / MiB} MiB, fill keep-alive alarm ${FILL_KEEPALIVE_S} s`);

section(`1. Traffic: ${num(p.requests)} downloads over ${p.days} days, ${num(p.files)} files (Zipf ${p.zipf}), ${p.colos} colos (Zipf ${p["colo-zipf"]}), ${p["colo-cache-gib"]} GiB Cache API per colo`);
const sweepCache = p["sweep-cache-gib"] > 0 ? `${p["sweep-cache-gib"]} GiB LRU` : "no eviction";
const [main, ...sweep] = simulateTraffic(p, [
  { colos: p.colos, cacheGib: p["colo-cache-gib"], revalidate: p.revalidate },
  ...p["colo-sweep"].map((n) => ({ colos: Math.max(1, Math.round(n)), cacheGib: p["sweep-cache-gib"], revalidate: [] })),
]);
printTraffic(p, main);

section(`1b. Colo locality: the same downloads spread over N colos, Cache API ${sweepCache} per colo (Cache API is per colo, R2 is global)`);
table(["colos", "Cache API hits", "R2 Class B/download", "Cache fills from R2", "origin GETs", "origin byte offload"],
  sweep.map((r) => [String(r.colos), pct(r.cacheHit, r.downloads), num(r.classB / r.downloads, 2), num(r.cacheFills), num(r.originGets), pct(r.bytes - r.originBytes, r.bytes)]));

section(`2a. Flash crowd: N cold clients of one new ${p["crowd-size-mib"]} MiB file within ${p["crowd-window-s"]} s, one FillCoordinator (ceiling ~${p["do-ceiling"]} req/s)`);
const crowd = p.crowd.map((n) => flashCrowd(p, Math.max(1, Math.round(n))));
console.log(`fill takes ${num(crowd[0].fillS, 1)} s at ${p["fill-mbps"]} Mbit/s; only clients arriving during it call the object, later ones read Cache API / R2`);
console.log(`clients arriving after the first ${LATE_JOIN_ORIGIN_MAX / MiB} MiB (${num(LATE_JOIN_ORIGIN_MAX / fillBps(p), 2)} s) wait for the stored copy (first byte up to ${num(crowd[0].fillS, 1)} s later), then the object relays it from R2`);
table(["clients", "arrivals/s", "object calls", "peak req/s", "of ceiling", "kept up", "fell behind", "waited", "origin ranges", "after fill", "relayed Gbit/s"],
  crowd.map((r) => [num(r.n), num(r.n / r.W), num(r.follows), num(r.peak), pct(r.peak, p["do-ceiling"]), num(r.live), num(r.detached), num(r.waited), `${num(r.rangeGets)} (${num(r.rangeBytes / MiB)} MiB)`, num(r.after), num(r.peakGbps, 1)]));
const saturate = p["do-ceiling"] * p["crowd-window-s"];
console.log(`saturates at ~${num(p["do-ceiling"])} cold arrivals/s during the fill = ${num(saturate)} clients in ${p["crowd-window-s"]} s (uniform arrivals)`);

section("2b. One ConcurrencyLimiter (client /64 + path) under client behaviours, 1 GiB file, limit 2");
const behaviours = [
  ["browser, 1 connection, 40 Mbit/s", { conns: 1, bytesPerConn: GiB, bpsPerConn: 5e6, retryS: 5, limit: 2 }],
  ["aria2c -x16 --retry-wait=5", { conns: 16, bytesPerConn: GiB / 16, bpsPerConn: 2.5e6, retryS: 5, limit: 2 }],
  ["64 connections, retry every 50 ms", { conns: 64, bytesPerConn: GiB / 64, bpsPerConn: 2.5e6, retryS: 0.05, limit: 2 }],
  ["300 users behind one CGNAT IPv4", { conns: 300, bytesPerConn: GiB, bpsPerConn: 5e6, retryS: 5, limit: 2 }],
];
table(["client", "peak req/s", "mean req/s", "of ceiling", "connections done in 600 s"],
  behaviours.map(([name, b]) => {
    const r = limiterBehaviour(p, b);
    return [name, num(r.peak), num(r.mean, 1), pct(r.peak, p["do-ceiling"]), `${num(r.done)} of ${num(r.conns)}`];
  }));

section(`2c. BUSY gauge (OFFLOAD_WHEN_BUSY=${p["busy-threshold"]}): one object for the whole base, 1 acquire per eligible GET`);
table(["eligible GETs/s", "object req/s", "peak req/s", "of ceiling", "served by the base"],
  p["busy-rps"].map((rps) => {
    const r = busyGauge(p, rps);
    return [num(rps), num(r.mean), num(r.peak), pct(r.peak, p["do-ceiling"]), pct(r.servedLocally, 1)];
  }));

section(`2d. Singleton objects vs isolates: ${num(p["worker-rps"])} req/s spread evenly over the isolates; health TTL ${p["health-ttl-ms"]} ms, farm TTL ${p["farm-ttl-ms"]} ms, stats flush ${p["stats-flush-s"]} s`);
table(["isolates", "req/s per isolate", "HEALTH reads/s", "HEALTH peak", "FARMS reads/s", "STATS flushes/s", `HEALTH via per-colo copy (${p.colos} colos)`],
  p.isolates.map((n) => {
    const r = singletons(p, Math.max(1, Math.round(n)));
    return [num(r.isolates), num(r.perIsolate, 2), num(r.health), `${num(r.healthPeak)} (${pct(r.healthPeak, p["do-ceiling"])})`, num(r.farms), num(r.stats), num(r.perColo)];
  }));
console.log(`bound: reads/s <= min(req/s, isolates / TTL); flushes/s <= min(req/s, isolates / interval)`);

section(`3. R2 writes per key: one ${p["hot-size-mib"]} MiB file changing every X s, ${p["hot-rps"]} req/s on it, 1 h (documented ~1 write/s per key)`);
table(["changes every", "fills/h", "peak meta writes/s", "superseded fills", "served from stored copy", "origin GB/h", "byte offload"],
  p["change-every-s"].map((e) => {
    const r = changingFile(p, e);
    return [`${e} s`, num(r.fills), num(r.peakWrites), num(r.superseded), pct(r.stored, r.requests), num(r.originGbPerH, 1), pct(r.offload, 1)];
  }));

section(`4. Cost of the traffic run in section 1 (list-price defaults; check current pricing). TB = 10^12 bytes, GB = 10^9`);
{
  const c = main;
  const tb = c.bytes / 1e12;
  const months = p.days / 30;
  const workerReq = 2 * c.downloads; // the base's 307 + the node's GET
  const cpuMs = c.downloads * (p["cpu-ms-base"] + p["cpu-ms-node"]);
  const doReq = c.limiterCalls + c.follows + c.fillAlarms;
  const doGbs = DO_MEMORY_GB * (c.fillDoSeconds + (c.limiterCalls * p["do-call-ms"]) / 1000);
  const baseHeads = c.downloads; // upper bound: INFO_CACHE_SECONDS hides most of these
  const gbMonth = c.storedByteSeconds / 1e9 / (30 * 86400);
  const items = [
    ["Workers requests (base 307 + node GET)", num(workerReq), (workerReq / 1e6) * p["price-worker-req"]],
    ["Workers CPU (ms)", num(cpuMs), (cpuMs / 1e6) * p["price-worker-cpu"]],
    ["Durable Object requests", num(doReq), (doReq / 1e6) * p["price-do-req"]],
    ["Durable Object duration (GB-s)", num(doGbs), (doGbs / 1e6) * p["price-do-gbs"]],
    ["R2 storage (GB-month)", num(gbMonth, 1), gbMonth * p["price-r2-gb-month"]],
    ["R2 Class A", num(c.classA), (c.classA / 1e6) * p["price-r2-class-a"]],
    ["R2 Class B (nodes + <=1 base head per download)", num(c.classB + baseHeads), ((c.classB + baseHeads) / 1e6) * p["price-r2-class-b"]],
    ["R2 / Workers egress (GB)", num(c.bytes / 1e9), (c.bytes / 1e9) * p["price-r2-egress-gb"]],
  ];
  const edge = items.reduce((s, r) => s + r[2], 0);
  table(["item", "quantity", "cost", "per TB served"], [
    ...items.map(([n, q, cost]) => [n, q, usd(cost), usd(cost / tb, 4)]),
    ["edge total", "", usd(edge), usd(edge / tb, 4)],
  ]);
  console.log(`served ${num(tb, 1)} TB in ${p.days} days (${num(tb / months, 1)} TB/month); Workers Paid $5/month minimum and free allowances not included`);
  console.log("");
  table(["origin egress price", "without offload", "with offload", "saved per TB served", "edge cost per TB", "net saving per TB"],
    p["origin-egress-gb"].map((price) => {
      const without = (c.bytes / 1e9) * price;
      const withOff = (c.originBytes / 1e9) * price;
      return [`$${price}/GB`, usd(without), usd(withOff), usd((without - withOff) / tb), usd(edge / tb, 4), usd((without - withOff - edge) / tb)];
    }));
  // R2 keeps every filled version until it changes or 404s: a rarely fetched file costs storage every month.
  const breakEven = p["origin-egress-gb"].map((price) => `${num(price / p["price-r2-gb-month"], 1)} months at $${price}/GB`).join(", ");
  console.log(`a stored file costs less than re-sending it from the origin only while it is downloaded at least once per ${breakEven}`);
}
