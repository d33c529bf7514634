/**
 * Figures 1 and 2: serving stored copies.
 *   1. 1 KiB hit req/s from the Cache API vs a bare caches.default.match worker
 *      (+ the REVALIDATE_SECONDS=0 line vs match + conditional HEAD to the origin), every
 *      request naming one of a few hundred client addresses, as on Cloudflare
 *   2. bulk hit throughput of the big object from R2 vs a bare worker reading the same
 *      chunk objects from R2 in sequence (bench-r2-seq)
 */
import http from "node:http";
import { agentGet, curlDownload, httpGet, median, sampleRss, steadyRss, wrk } from "./clients.mjs";
import { countedSkipReason, countedWindows, dumpDir, underCallgrind } from "./callgrind.mjs";
import { cpuMs } from "./stack.mjs";
import { chunkObjects } from "./cold-util.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const MB = 1e6;

/** Cache-Status of a node answer for `path` (HEAD, so no body and no download slot). */
async function cacheStatusOf(url, headers = {}) {
  const r = await fetch(url, { method: "HEAD", headers });
  return `${r.status} ${r.headers.get("cache-status") ?? ""}`;
}

/**
 * The node answers `files.hit` from the Cache API, and the bare cache worker has its own
 * entry with the same bytes and validators; returns the node's Cache-Status lines.
 */
async function primeHits({ stack, origin, files }) {
  const path = files.hit.path;
  // Node: miss (fill) -> R2 hit (warms the Cache API in waitUntil) -> Cache API hits.
  let status = "";
  for (let i = 0; i < 10 && !status.includes("cache-api"); i++) {
    await httpGet(stack.url("node-fresh") + path);
    await sleep(300);
    status = await cacheStatusOf(stack.url("node-fresh") + path);
  }
  if (!status.includes("cache-api")) throw new Error(`node never served ${path} from the Cache API (${status})`);
  const revalStatus = await cacheStatusOf(stack.url("node") + path);
  // Baseline: its own Cache API entry with the same bytes and validators.
  const o = await fetch(origin.url + path);
  const body = await o.arrayBuffer();
  const put = await fetch(`${stack.url("bench-admin")}/cache${path}`, {
    method: "PUT", body, headers: { etag: o.headers.get("etag") ?? "", "last-modified": o.headers.get("last-modified") ?? "" },
  });
  if (!put.ok) throw new Error(`priming the baseline cache failed: ${put.status}`);
  for (const b of ["bench-cache", "bench-cache-head"]) {
    const r = await httpGet(stack.url(b) + path);
    if (r.status !== 200 || r.bytes !== files.hit.size) throw new Error(`${b} answered ${r.status} with ${r.bytes} bytes`);
  }
  return { status, revalStatus };
}

export async function figureHitRate(ctx) {
  const { stack, origin, files, quick, note } = ctx;
  await stack.restart(); // no background work left over from the figure before
  const path = files.hit.path;
  const { status, revalStatus } = await primeHits(ctx);

  // Short interleaved rounds: other load on a 2-core machine (a VM's neighbours) comes and
  // goes, so each round's node run is compared with the baseline run right after it, and
  // the figure is the median of those paired ratios (one slow stretch skews one round's
  // pair, not every node run against every baseline run).
  const seconds = 2;
  const rounds = quick ? 4 : 6;
  const connections = 8;
  // Requests through Cloudflare always name their client (CF-Connecting-IP): each request
  // names the next of this many addresses, so the node counts downloads per client as it
  // does on Cloudflare (one HMAC per client per isolate), not one new download per request.
  const clients = 300;
  const targets = ["node-fresh", "bench-cache", "node", "bench-cache-head"];
  for (const t of targets) await wrk(stack.url(t) + path, { connections, seconds: 1, clients }); // JIT warm-up
  await sleep(500);
  const rps = Object.fromEntries(targets.map((t) => [t, []]));
  const heads = Object.fromEntries(targets.map((t) => [t, 0]));
  const requests = Object.fromEntries(targets.map((t) => [t, 0]));
  const cpu = Object.fromEntries(targets.map((t) => [t, 0]));
  const bad = [];
  for (let r = 0; r < rounds; r++) {
    for (const t of targets) {
      await origin.control.reset();
      const cpu0 = await cpuMs(stack.pid());
      const w = await wrk(stack.url(t) + path, { connections, seconds, clients });
      await sleep(500); // requests wrk cut off still finish (and HEAD the origin) after it exits
      cpu[t] += (await cpuMs(stack.pid())) - cpu0;
      heads[t] += (await origin.control.stats(path)).heads;
      requests[t] += w.requests;
      if (w.non2xx || w.errors) bad.push(`${t}: ${w.non2xx} non-2xx, ${w.errors} socket errors`);
      rps[t].push(w.rps);
    }
  }
  const m = Object.fromEntries(targets.map((t) => [t, median(rps[t])]));
  const paired = (node, base) => rps[node].map((x, i) => x / rps[base][i]);
  const ratios = { hit: paired("node-fresh", "bench-cache"), reval: paired("node", "bench-cache-head") };
  const ratio = { hit: median(ratios.hit), reval: median(ratios.reval) };
  note(`1: wrk -t1 -c${connections} -d${seconds}s, every request with CF-Connecting-IP, rotating over ${clients} client addresses (client-addresses.lua), ${rounds} alternating round(s); req/s = median per worker, ratio = median of the rounds' paired ratios (1: ${ratios.hit.map((x) => x.toFixed(2)).join("/")}; 1b: ${ratios.reval.map((x) => x.toFixed(2)).join("/")}); node answers "${status}" (REVALIDATE_SECONDS=31536000, ${heads["node-fresh"]} origin HEADs during its runs) and, with REVALIDATE_SECONDS=0, "${revalStatus}" (${heads.node} origin HEADs for ${requests.node} requests).`);
  if (bad.length) note(`1: load errors: ${bad.join("; ")}`);
  const us = (t) => ((cpu[t] * 1000) / requests[t]).toFixed(0);
  note(`1: workerd CPU per request (all its threads, whole runs): node-fresh ${us("node-fresh")} us vs bench-cache ${us("bench-cache")} us; node (REVALIDATE_SECONDS=0) ${us("node")} us vs bench-cache-head ${us("bench-cache-head")} us; req/s per round: ${targets.map((t) => `${t} ${rps[t].map((x) => x.toFixed(0)).join("/")}`).join(", ")}.`);
  return [
    {
      id: "1", what: "1 KiB hit req/s, Cache API (REVALIDATE_SECONDS=31536000: no origin HEAD)",
      node: m["node-fresh"], baseline: m["bench-cache"], unit: "req/s", ratio: ratio.hit,
      goal: ">= 0.9", pass: ratio.hit >= 0.9,
    },
    {
      id: "1b", what: "1 KiB hit req/s, REVALIDATE_SECONDS=0 (conditional HEAD per hit) vs match + HEAD",
      node: m.node, baseline: m["bench-cache-head"], unit: "req/s", ratio: ratio.reval,
      goal: ">= 0.9", pass: ratio.reval >= 0.9,
    },
  ];
}

export async function figureBigHit(ctx) {
  const { stack, files, note } = ctx;
  const { path, size } = files.big;
  // Normally stored by figure 4 already; otherwise fill it now (not timed).
  const stored = await fetch(stack.url("node-r2") + path, { method: "HEAD" });
  if (!(stored.headers.get("cache-status") ?? "").includes("hit")) {
    const f = await httpGet(stack.url("node") + path, { "cf-connecting-ip": "10.2.0.254" });
    if (f.status !== 200 || f.bytes !== size) throw new Error(`fill of ${path}: ${f.status}, ${f.bytes} bytes`);
  }
  const { prefix, chunks } = await chunkObjects(stack, path);
  const seq = `${path}?keys=${encodeURIComponent(prefix)}&n=${chunks.length}`;
  const ip = { "cf-connecting-ip": "10.2.0.1" };
  const runs = 1;
  // This runtime streams R2 at tens of MB/s (CPU-bound in Miniflare's R2 simulator), so a
  // 1 GiB body would take most of the time budget: the rate is measured over at most this long.
  const maxSeconds = ctx.quick ? 10 : 20;
  const got = { node: [], baseline: [] };
  const speeds = { node: [], baseline: [] };
  const growth = { node: [], baseline: [] };
  for (let i = 0; i < runs; i++) {
    for (const [who, worker, target, headers] of [
      ["baseline", "bench-r2-seq", seq, {}],
      ["node", "node-r2", path, ip],
    ]) {
      // Fresh workerd per download: RSS growth then belongs to this download alone.
      await stack.restart();
      const pid = stack.pid();
      const url = stack.url(worker) + target; // new ports after a restart
      if (who === "node") {
        const s = await cacheStatusOf(url, headers);
        if (!s.includes("detail=r2")) throw new Error(`node-r2 does not serve ${path} from R2: ${s}`);
      } else {
        await fetch(`${stack.url("bench-r2-seq")}/warm-up-miss?n=1`).then((r) => r.arrayBuffer());
      }
      const before = await steadyRss(pid, 3);
      const sampler = sampleRss(pid, 100);
      const d = await curlDownload(url, headers, { maxSeconds });
      const { peak } = sampler.stop();
      if (d.status !== 200 || (d.complete && d.bytes !== size)) throw new Error(`${who} download: ${d.status}, ${d.bytes} of ${size} bytes`);
      got[who].push(d.complete ? "all" : `${(d.bytes / MB).toFixed(0)} MB in ${d.seconds.toFixed(0)} s`);
      speeds[who].push(d.bytesPerSec / MB);
      growth[who].push((peak - before) / MB);
    }
  }
  const node = median(speeds.node);
  const baseline = median(speeds.baseline);
  note(`2: curl -o /dev/null --max-time ${maxSeconds} of the stored ${fmtSize(size)} object (R2, ${chunks.length} chunk objects; body received: node ${got.node.join(", ")}, baseline ${got.baseline.join(", ")}), ${runs} run(s) each in a fresh workerd; node worker "node-r2" (REVALIDATE_SECONDS=31536000, CACHE_API_MAX_BYTES=0 so it reads R2 like the baseline; guard on); baseline bench-r2-seq reads the same ${chunks.length} R2 objects (${prefix}<i>${path}) one after the other. workerd RSS grew ${median(growth.node).toFixed(0)} MB (node) / ${median(growth.baseline).toFixed(0)} MB (baseline) meanwhile.`);
  return [{
    id: "2", what: `${fmtSize(size)} hit throughput from R2`, node, baseline, unit: "MB/s", ratio: node / baseline,
    goal: ">= 0.9", pass: node / baseline >= 0.9,
  }];
}

export function fmtSize(bytes) {
  if (bytes >= 1024 ** 3 && bytes % 1024 ** 3 === 0) return `${bytes / 1024 ** 3} GiB`;
  if (bytes >= 1024 ** 2) return `${+(bytes / 1024 ** 2).toFixed(2)} MiB`;
  return `${+(bytes / 1024).toFixed(2)} KiB`;
}

/** Time-driven node work, stretched by valgrind's ~50× slower clock (callgrind.mjs). */
const SLOWED_CLOCK_VARS = { STATS_FLUSH_SECONDS: "500", PURGE_CHECK_SECONDS: "100" };

/**
 * Figure 1 counted: instructions per 1 KiB Cache API hit under callgrind (callgrind.mjs),
 * node-fresh against the bare caches.default.match worker, in a workerd of their own
 * (restarted under valgrind, then restarted plainly for the figures after it).
 */
export async function figureHitCounted(ctx) {
  const { stack, files, note, tmp } = ctx;
  const skip = await countedSkipReason(true);
  if (skip) return note(`1i: not run (${skip})`), [];
  const dumps = await dumpDir(tmp);
  const restore = await underCallgrind(tmp, dumps.dir);
  try {
    await stack.restart({ nodeVars: SLOWED_CLOCK_VARS });
  } finally {
    restore();
  }
  try {
    const { status } = await primeHits(ctx);
    const path = files.hit.path;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const { per, text } = await countedWindows({
      pid: stack.pid(),
      dumps,
      workers: { "node-fresh": stack.url("node-fresh") + path, "bench-cache": stack.url("bench-cache") + path },
      // As figure 1: every request names one of 300 client addresses (RFC 5737 ranges).
      async ask(url, i) {
        const n = i % 300;
        const r = await agentGet(agent, url, { "cf-connecting-ip": `${["192.0.2.", "198.51.100.", "203.0.113."][n >> 8]}${n & 255}` });
        if (r.status !== 200 || r.bytes !== files.hit.size) throw new Error(`${url} answered ${r.status} with ${r.bytes} bytes under callgrind`);
      },
      warmup: 800,
      windows: 3,
      requests: 700,
    });
    agent.destroy();
    if (dumps.kept) note(`1i: dumps kept in ${dumps.dir} (<worker>.<window>.callgrind)`);
    note(`1i: callgrind on the whole workerd process (node answers "${status}", ${JSON.stringify(SLOWED_CLOCK_VARS)} for valgrind's slower clock), V8 told to optimise sooner and TurboFan on the main thread, its optimising compilers left out (callgrind.mjs); 800 warm-up rounds, then per worker 3 windows of 700 sequential keep-alive requests over 300 client addresses, the median window reported; instructions per request (windows; compiling left out): ${text}`);
    const ratio = per["bench-cache"] / per["node-fresh"];
    return [{ id: "1i", what: "1 counted: instructions per 1 KiB Cache API hit, bare match ÷ node", node: per["node-fresh"] / 1000, baseline: per["bench-cache"] / 1000, unit: "k instr", ratio, goal: ">= 0.9", pass: ratio >= 0.9 }];
  } finally {
    await stack.restart({ nodeVars: {} });
  }
}
