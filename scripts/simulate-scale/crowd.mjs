/** Section 2a of the scale model: a flash crowd on one FillCoordinator. */
import { coordinatorRestarts, fillerDies } from "./crowd-stall.mjs";
import { Buckets, chunksOf, clientBps, EVENT_BYTES, fillBps, MiB, mulberry32, num, pct, pick, section, table, zipfCdf } from "./common.mjs";

/**
 * n cold clients of one new file, arriving uniformly over the window, in Zipf-weighted
 * colos. The first client's Worker fetches the file (one lease on every chunk) and reports
 * each stored chunk; every client that arrives before the pointer is committed joins once
 * and then reads chunks itself: from its colo's Cache API, else from R2 (and the first miss
 * per colo and chunk warms the colo, WARMING_S), waiting at the live edge when it has caught
 * up. The coordinator writes one small event per chunk to every open progress stream.
 * Later clients find the pointer in R2 and never call the object. What a filler or
 * coordinator dying halfway costs is in crowd-stall.mjs.
 */
function flashCrowd(p, n) {
  const rnd = mulberry32(p.seed * 7919 + n);
  const W = p["crowd-window-s"];
  const S = p["crowd-size-mib"] * MiB;
  const C = p["chunk-mib"] * MiB;
  const F = fillBps(p);
  const stall = p["stall-s"];
  const warmS = C / ((p["r2-mbps"] * 1e6) / 8);
  const chunks = chunksOf(S, C);
  const colos = p.colos;
  const coloCdf = zipfCdf(colos, p["colo-zipf"]);
  const arrivals = [];
  for (let i = 0; i < n; i++) arrivals.push({ t: rnd() * W, col: pick(coloCdf, rnd()), speed: clientBps(rnd, p) });
  arrivals.sort((a, b) => a.t - b.t);
  const t0 = arrivals[0].t;
  const storedAt = (i) => t0 + Math.min(S, (i + 1) * C) / F;
  const end = storedAt(chunks - 1);
  const calls = new Buckets();
  const events = new Buckets();
  const filler = arrivals[0];
  /** When client `a` starts reading each chunk: on arrival, at its own speed, never before the chunk is stored. */
  const reads = (a, visit) => {
    const cold = a.t < end;
    let at = a.t;
    let waited = false;
    for (let i = 0; i < chunks; i++) {
      if (cold && storedAt(i) > at) (at = storedAt(i)), (waited = true);
      visit(a.col * chunks + i, at);
      at += Math.min(C, S - i * C) / a.speed;
    }
    return waited;
  };
  // Cache API per colo and chunk: the first read that misses warms it (store.ts warmChunk),
  // readable warmS later; reads in between miss too. In the filler's colo every chunk is
  // put as it is stored (Store.writeChunk), so nobody there misses.
  const first = new Float64Array(colos * chunks).fill(Infinity);
  for (const a of arrivals.slice(1)) reads(a, (slot, at) => at < first[slot] && (first[slot] = at));
  let joins = 0, classB = 0, atEdge = 0, after = 0;
  const pointerAt = new Float64Array(colos).fill(Infinity);
  for (const [j, a] of arrivals.entries()) {
    if (a.t < end) {
      joins++;
      calls.add(a.t);
      classB++; // Store.lookup found no pointer: head meta/<key>
    } else {
      after++;
      if (a.t < pointerAt[a.col]) (classB++, (pointerAt[a.col] = a.t)); // head meta/<key>, then this colo has the pointer
    }
    if (j === 0) continue; // the filler's client reads its chunks live from the origin fetch
    const waited = reads(a, (slot, at) => {
      if (Math.floor(slot / chunks) === filler.col) return;
      if (at === first[slot]) classB += 2; // serve + warm
      else if (at < first[slot] + warmS) classB++; // the warm is still on its way: read R2 too
    });
    if (waited) atEdge++;
  }
  // Events: every chunk to every open stream (one per joined client, until the fill ends).
  let subs = 0, j = 0, writes = 0;
  for (let i = 0; i < chunks; i++) {
    const t = storedAt(i);
    calls.add(t); // the filler's report of chunk i
    while (j < n && arrivals[j].t <= t) (j++, subs++);
    events.add(t, subs);
    writes += subs;
  }
  const alarms = Math.ceil((end - t0) / stall);
  const renews = chunks * Math.floor(C / F / (stall / 3));
  /** When client `a` has read chunks 0 .. k-1 and needs chunk k (the fill running as planned until then). */
  const reach = (a, k) => {
    let at = a.t;
    for (let i = 0; i < k; i++) at = Math.max(at, storedAt(i)) + Math.min(C, S - i * C) / a.speed;
    return at;
  };
  const timeline = { arrivals, t0, end, chunks, C, S, F, stall, storedAt, reach };
  return {
    n, W, S, chunks, fillS: end - t0, joins, reports: chunks, alarms, renews, after, atEdge,
    peak: calls.peak(), eventPeak: events.peak(), writes, classB, dies: fillerDies(timeline), restart: coordinatorRestarts(timeline),
    perDownload: (joins + chunks + alarms + renews) / n, perCold: (joins + chunks + alarms + renews) / joins,
  };
}

export function crowdSection(p) {
  section(`2a. Flash crowd: N cold clients of one new ${p["crowd-size-mib"]} MiB file within ${p["crowd-window-s"]} s, ${p.colos} colos, one FillCoordinator (ceiling ~${p["do-ceiling"]} req/s)`);
  const crowd = p.crowd.map((n) => flashCrowd(p, Math.max(1, Math.round(n))));
  const c0 = crowd[0];
  console.log(`fill takes ${num(c0.fillS, 1)} s at ${p["fill-mbps"]} Mbit/s (${num(c0.chunks)} chunks, one report each); clients arriving during it join once, later ones find the pointer in R2 and never call the object`);
  console.log(`file bytes through the object: 0 (it hands out leases and writes ~${EVENT_BYTES}-byte progress events; every client's Worker reads chunks from its colo's Cache API or R2)`);
  table(["clients", "arrivals/s", "joins", "reports", "calls/download", "per cold one", "peak req/s", "of ceiling", "events/s peak", "caught up", "after fill", "R2 gets/download", "filler dies: messages + re-joins", "origin body"],
    crowd.map((r) => [num(r.n), num(r.n / r.W), num(r.joins), num(r.reports), num(r.perDownload, 2), num(r.perCold, 3), num(r.peak), pct(r.peak, p["do-ceiling"]), num(r.eventPeak), num(r.atEdge), num(r.after), num(r.classB / r.n, 2), `${num(r.dies.messages)} + ${num(r.dies.rejoins)}`, "1.00x"]));
  const reportsPerS = fillBps(p) / (p["chunk-mib"] * MiB);
  console.log(`holds ~${num(p["do-ceiling"] - reportsPerS)} cold arrivals/s while a file fills (ceiling minus ${num(reportsPerS, 1)} reports/s) = ${num((p["do-ceiling"] - reportsPerS) * p["crowd-window-s"])} clients in ${p["crowd-window-s"]} s (uniform arrivals)`);
  console.log(`a filler that dies halfway costs one lease message to one waiting subscriber: the fill pauses ${num(c0.dies.pauseS, 1)} s (FILL_STALL_SECONDS), the chunk in flight is fetched again (origin body ${num(c0.dies.originBody, 3)}x); followers re-join only if one chunk takes the new holder over 1 s (here ${num(c0.dies.chunkS, 2)} s)`);
  console.log("");
  console.log(`worst case, the FillCoordinator restarts halfway (leases and streams are in memory): every open stream re-joins once, FILL_STALL_SECONDS + 1 s after the last event it heard`);
  table(["clients", "streams lost", "re-joins in busiest second", "peak req/s after restart", "of ceiling", "first join after restart", "origin body", "chunk keys written twice within 1 s"],
    crowd.map(({ n, restart: r }) => [num(n), num(r.lost), num(r.rejoinPeak), num(r.peak), pct(r.peak, p["do-ceiling"]), `${num(r.firstJoinS, 2)} s`, `${num(r.originBody, 2)}x`, num(r.twiceWithin1s)]));
}
