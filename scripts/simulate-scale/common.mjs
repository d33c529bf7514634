/** Units, constants of the modelled code, seeded randomness and the table printer. */

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;
// Constants of the code being modelled.
export const WARMING_S = 60; // store/cache-tier.ts WARMING_SECONDS: a colo warms a chunk once per this
export const COMPLETE_KEEP_S = 3600; // fill/cleanup.ts COMPLETE_KEEP_MS: one last alarm forgets the fill
export const EVENT_BYTES = 20; // fill/protocol.ts: one progress event, `{"t":"chunk","i":123}\n`
export const DO_MEMORY_GB = 0.128; // Durable Objects are billed at 128 MB for duration

export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
export const expo = (rnd) => -Math.log(1 - rnd());
export function normal(rnd) {
  const u = 1 - rnd();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rnd());
}
export function poisson(rnd, mean) {
  const l = Math.exp(-mean);
  let k = 0;
  for (let prod = rnd(); prod > l; prod *= rnd()) k++;
  return k;
}
export function zipfCdf(n, s) {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) cdf[i] = sum += 1 / (i + 1) ** s;
  for (let i = 0; i < n; i++) cdf[i] /= sum;
  return cdf;
}
export function pick(cdf, u) {
  let lo = 0;
  let hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cdf[mid] < u) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
export const clientBps = (rnd, p) => (p["client-mbps"] * 1e6 * Math.exp(0.8 * normal(rnd))) / 8;
export const fillBps = (p) => (p["fill-mbps"] * 1e6) / 8;

/** Requests per 1-s bucket: mean and peak. */
export class Buckets {
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
export class Heap {
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

export function num(x, d = 0) {
  if (!Number.isFinite(x)) return String(x);
  const [i, f] = Math.abs(x).toFixed(d).split(".");
  const s = i.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return (x < 0 && Number(x.toFixed(d)) !== 0 ? "-" : "") + s + (f ? `.${f}` : "");
}
export const pct = (a, b) => `${num(b === 0 ? 0 : (100 * a) / b, 1)} %`;
export const usd = (x, d = 2) => `$${num(x, d)}`;

export function table(header, rows, leftColumns = 1) {
  const all = [header, ...rows].map((r) => r.map(String));
  const w = header.map((_, c) => Math.max(...all.map((r) => r[c].length)));
  const line = (r) => r.map((v, c) => (c < leftColumns ? v.padEnd(w[c]) : v.padStart(w[c]))).join("  ").trimEnd();
  console.log(line(all[0]));
  console.log(w.map((n) => "-".repeat(n)).join("  "));
  for (const r of all.slice(1)) console.log(line(r));
}
export function section(title) {
  console.log(`\n== ${title}`);
}

/** Chunks of a file (store/layout.ts chunkCount) and the bytes of its last `k` chunks. */
export const chunksOf = (s, C) => Math.max(1, Math.ceil(s / C));
export const tailBytes = (s, C, k) => (k <= 0 ? 0 : s - (chunksOf(s, C) - k) * C);
