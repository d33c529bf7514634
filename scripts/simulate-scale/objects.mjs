/** Sections 2b-2d of the scale model: the limiter, the BUSY gauge and the singleton objects. */
import { Buckets, clientBps, expo, GiB, Heap, MiB, mulberry32, normal, num, pct, section, table } from "./common.mjs";

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

export function objectSections(p) {
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
}
