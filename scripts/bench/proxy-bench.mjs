/**
 * Reverse-proxy bench: the base worker's PROXY_ROUTES (wrangler.base.toml bundle) and a
 * bare pass-through worker (fetch(backend + path), returned as is) in ONE workerd
 * (Miniflare API, direct sockets), in front of the same real Node backend (its own
 * process, two ports). Same run, ratios:
 *   1. req/s of a 1 KiB GET: route round-robin over both ports, forwarding headers on
 *      (X-Forwarded-* and RFC 7239 Forwarded) vs the bare worker; wrk -t1 -c8,
 *      alternating rounds, median.
 *   2. 64 MiB streamed through the route vs the bare worker (curl, MB/s), alternating.
 *   3. throttle accuracy through routes throttled at V.92, 64000 and 1000000 B/s.
 *   1i. figure 1 counted: instructions per request under callgrind (callgrind.mjs), in a
 *      second workerd started under valgrind; BENCH_CALLGRIND=0 leaves it out.
 * Run through `bash scripts/bench-proxy`; BENCH_QUICK=1 for shorter runs (3 s throttle
 * windows); BENCH_ONLY=1,2,1i runs only those figures; BENCH_BUNDLE=path/index.js measures a
 * prebuilt base bundle (a patched copy of src/; then no Markdown is written).
 * Temp state removed at the end; the Markdown goes to bench-results/proxy.md.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { buildWorkerBundle, readWorkerConfig } from "../stack/worker-build.mjs";
import { cpuMs } from "./base-stack.mjs";
import { mdTable, textTable } from "./base-report.mjs";
import { ratioText } from "./report.mjs";
import { agentGet, curlDownload, median, wrk } from "./clients.mjs";
import { countedSkipReason, countedWindows, withCountedStack } from "./callgrind.mjs";
import { startNoiseMonitor } from "./noise.mjs";
import { installSignalHandlers, onCleanup, runBench } from "./procs.mjs";
import { BASE, PASS, PASS_FWD, startBackend, startProxyStack } from "./proxy-stack.mjs";
import { PROXY_RATES, timedDownload } from "./proxy-throttle.mjs";
import { gitDescribe, otherWorkerds } from "./run-info.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const QUICK = process.env.BENCH_QUICK === "1";
const MiB = 1024 ** 2;
const BIG = 64 * MiB;
const THROTTLE_SECONDS = QUICK ? 3 : 10;
const TOLERANCE = 0.05;
/** The goal of figures 1 and 2: the route at 0.9x of a bare fetch() or better. */
const GOAL = "≥ 0.90";
const CLIENT = { "cf-connecting-ip": "192.0.2.10", "user-agent": "bench" };
const SMALL_PATH = "/p/small";
const ONLY = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(",").map((s) => s.trim())) : null;
const PREBUILT = process.env.BENCH_BUNDLE ? path.resolve(process.env.BENCH_BUNDLE) : null;

const started = performance.now();
const log = (msg) => process.stderr.write(`[bench-proxy ${((performance.now() - started) / 1000).toFixed(0).padStart(3)}s] ${msg}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const fmt = (n, digits = 0) => (Number.isFinite(n) ? n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits }) : "n/a");

/* ------------------------------------------------------------------ figure 1 */

async function figureRequests({ stack, backend, note }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  const url = (w) => stack.url(w) + SMALL_PATH;

  // What the backend receives through the route: forwarding headers, both ports in turn.
  const echo = JSON.parse((await agentGet(agent, stack.url(BASE) + "/p/echo", CLIENT)).body);
  const h = echo.headers;
  const problems = [];
  if (h["x-forwarded-for"] !== CLIENT["cf-connecting-ip"]) problems.push(`X-Forwarded-For ${h["x-forwarded-for"]}`);
  if (!/^for=192\.0\.2\.10;proto=http;host=/.test(h.forwarded ?? "")) problems.push(`Forwarded ${h.forwarded}`);
  if (h["x-forwarded-proto"] !== "http" || !h["x-forwarded-host"]) problems.push(`X-Forwarded-Proto/Host ${h["x-forwarded-proto"]} ${h["x-forwarded-host"]}`);
  if (problems.length) throw new Error(`the route did not forward as configured: ${problems.join("; ")}`);
  note(`1: backend saw through the route: X-Forwarded-For: ${h["x-forwarded-for"]}; Forwarded: ${h.forwarded}; X-Forwarded-Proto: ${h["x-forwarded-proto"]}; X-Forwarded-Host: ${h["x-forwarded-host"]}`);

  await fetch(backend.urls[0] + "/__reset");
  for (let i = 0; i < 100; i++) {
    const r = await agentGet(agent, url(BASE), CLIENT);
    if (r.status !== 200 || r.bytes !== 1024) throw new Error(`route answered ${r.status} with ${r.bytes} bytes`);
  }
  const split = await (await fetch(backend.urls[0] + "/__stats")).json();
  const perPort = backend.ports.map((p) => split[p] ?? 0);
  if (perPort.some((n) => n !== 50)) throw new Error(`round-robin over 2 ports gave ${perPort.join("/")} of 100`);
  for (const w of [PASS, PASS_FWD]) {
    const r = await agentGet(agent, url(w), CLIENT);
    if (r.status !== 200 || r.bytes !== 1024) throw new Error(`${w} answered ${r.status} with ${r.bytes} bytes`);
  }
  // The ceiling must send what the route sends, or it is not the route's ceiling.
  const fwd = JSON.parse((await agentGet(agent, stack.url(PASS_FWD) + "/p/echo", CLIENT)).body).headers;
  const differ = ["x-forwarded-for", "forwarded", "x-forwarded-proto", "x-forwarded-host"].filter((k) => fwd[k] !== h[k]);
  if (differ.length) throw new Error(`${PASS_FWD} does not forward as the route does: ${differ.join(", ")}`);
  note(`1: 100 sequential GETs through the route reached the ports ${perPort.join(" / ")} (round-robin); all three workers answer 200 with 1024 body bytes`);

  const workers = [BASE, PASS, PASS_FWD];
  for (let i = 0; i < 300; i++) for (const w of workers) await agentGet(agent, url(w), CLIENT);
  agent.destroy();

  const connections = 8;
  const seconds = QUICK ? 2 : 3;
  const rounds = QUICK ? 4 : 6;
  for (const w of workers) await wrk(url(w), { connections, seconds: 2, headers: CLIENT });
  const rps = Object.fromEntries(workers.map((w) => [w, []]));
  const cpu = Object.fromEntries(workers.map((w) => [w, []]));
  const bad = [];
  for (let r = 0; r < rounds; r++) {
    // Each worker goes first, second and last in turn.
    for (const w of [...workers.slice(r % 3), ...workers.slice(0, r % 3)]) {
      const c0 = await cpuMs(stack.pid());
      const res = await wrk(url(w), { connections, seconds, headers: CLIENT });
      const c1 = await cpuMs(stack.pid());
      if (res.non2xx || res.errors) bad.push(`${w}: ${res.non2xx} non-2xx/3xx, ${res.errors} socket errors`);
      rps[w].push(res.rps);
      cpu[w].push(((c1 - c0) * 1000) / res.requests);
      await sleep(200);
    }
  }
  const proxy = median(rps[BASE]);
  const bare = median(rps[PASS]);
  const ceiling = median(rps[PASS_FWD]);
  const perRound = (w) => rps[w].map((x) => x.toFixed(0)).join("/");
  note(`1: wrk -t1 -c${connections} -d${seconds}s with CF-Connecting-IP, ${rounds} rounds rotating which runs first, median; per round: route ${perRound(BASE)}, bare ${perRound(PASS)}, bare forwarding ${perRound(PASS_FWD)} req/s`);
  note(`1: workerd CPU per request (median over rounds; user+sys of the whole workerd process / wrk requests): route ${median(cpu[BASE]).toFixed(0)} µs, bare ${median(cpu[PASS]).toFixed(0)} µs, bare forwarding ${median(cpu[PASS_FWD]).toFixed(0)} µs`);
  note(`1c: ${PASS_FWD} is a bare worker doing only what forwarding itself takes: a copy of the client's fields without CF-Connecting-IP, the four fields the route sends (checked equal to the route's on /p/echo), an AbortController and a 30 s timer on the backend's silence cleared once it answered, the answer returned as is. The route's balancer, failover marks, path checks and hop-by-hop handling are what 1 has beyond it.`);
  if (bad.length) note(`1: load errors: ${bad.join("; ")}`);
  const ratio = proxy / bare;
  return {
    rows: [
      ["1", "1 KiB GET req/s: route (round-robin, 2 ports, forwarding on) vs bare fetch()", `${fmt(proxy)} req/s`, `${fmt(bare)} req/s`, ratioText(ratio, GOAL), GOAL, ratio >= 0.9 ? "pass" : "MISS"],
      ["1c", "ceiling: bare fetch() forwarding as the route does (client's fields + 4 forwarding fields, silence timer), no logic, vs bare fetch()", `${fmt(ceiling)} req/s`, `${fmt(bare)} req/s`, `${(ceiling / bare).toFixed(2)}x`, "info", "info"],
      ["1r", "route vs that ceiling (what the route's own logic costs)", `${fmt(proxy)} req/s`, `${fmt(ceiling)} req/s`, `${(proxy / ceiling).toFixed(2)}x`, "info", "info"],
    ],
  };
}

/* ------------------------------------------------------------------ figure 1i */

/** Requests per counted window, windows per worker (median reported), warm-up rounds: as bench-base's. */
const COUNTED_REQUESTS = 700;
const COUNTED_WINDOWS = 3;
const COUNT_WARMUP = 800;

/**
 * Figure 1 again, counted: instructions per request of the route, the bare fetch() and the
 * bare forwarding worker, one keep-alive connection, sequential requests after a warm-up,
 * in a workerd under callgrind (callgrind.mjs). The backend is another process, so only
 * workerd's side of each request is counted, as only workerd's CPU is the product's cost.
 */
async function figureInstructions({ stack, note, dumps }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const url = (w) => stack.url(w) + SMALL_PATH;
  const { per, text } = await countedWindows({
    pid: stack.pid(),
    dumps,
    workers: { [BASE]: url(BASE), [PASS]: url(PASS), [PASS_FWD]: url(PASS_FWD) },
    async ask(u) {
      const r = await agentGet(agent, u, CLIENT);
      if (r.status !== 200 || r.bytes !== 1024) throw new Error(`${u} answered ${r.status} with ${r.bytes} bytes under callgrind`);
    },
    warmup: COUNT_WARMUP,
    windows: COUNTED_WINDOWS,
    requests: COUNTED_REQUESTS,
  });
  agent.destroy();
  if (dumps.kept) note(`1i: dumps kept in ${dumps.dir} (<worker>.<window>.callgrind)`);
  note(`1i: callgrind on the whole workerd process, V8 told to optimise sooner and TurboFan on the main thread, its optimising compilers left out (callgrind.mjs); ${COUNT_WARMUP} warm-up rounds, then per worker ${COUNTED_WINDOWS} windows of ${COUNTED_REQUESTS} sequential keep-alive requests, the median window reported; instructions per request (windows; compiling left out): ${text}`);
  const k = (x) => `${Math.round(x / 1000)}k instr`;
  const ratio = per[PASS] / per[BASE];
  return [
    ["1i", "1 counted: instructions per 1 KiB GET, bare fetch() ÷ route", k(per[BASE]), k(per[PASS]), ratioText(ratio, GOAL), GOAL, ratio >= 0.9 ? "pass" : "MISS"],
    ["1ci", "1c counted: bare fetch() ÷ bare forwarding (what forwarding itself costs)", k(per[PASS_FWD]), k(per[PASS]), `${(per[PASS] / per[PASS_FWD]).toFixed(2)}x`, "info", "info"],
    ["1ri", "1r counted: bare forwarding ÷ route (what the route's own logic costs)", k(per[BASE]), k(per[PASS_FWD]), `${(per[PASS_FWD] / per[BASE]).toFixed(2)}x`, "info", "info"],
  ];
}

/* ------------------------------------------------------------------ figure 2 */

async function figureStream({ stack, note }) {
  const url = (w) => `${stack.url(w)}/p/bytes?n=${BIG}`;
  const rounds = QUICK ? 3 : 5;
  for (const w of [BASE, PASS]) {
    const r = await curlDownload(url(w), CLIENT);
    if (r.status !== 200 || r.bytes !== BIG) throw new Error(`${w}: ${r.status} with ${r.bytes} of ${BIG} bytes`);
  }
  const speed = { [BASE]: [], [PASS]: [] };
  const cpu = { [BASE]: [], [PASS]: [] };
  for (let r = 0; r < rounds; r++) {
    for (const w of r % 2 ? [PASS, BASE] : [BASE, PASS]) {
      const c0 = await cpuMs(stack.pid());
      const d = await curlDownload(url(w), CLIENT);
      const c1 = await cpuMs(stack.pid());
      if (d.status !== 200 || d.bytes !== BIG) throw new Error(`${w}: ${d.status} with ${d.bytes} of ${BIG} bytes`);
      speed[w].push(d.bytesPerSec / 1e6);
      cpu[w].push((c1 - c0) / (BIG / MiB));
      await sleep(200);
    }
  }
  const proxy = median(speed[BASE]);
  const bare = median(speed[PASS]);
  note(`2: curl -o /dev/null of ${BIG / MiB} MiB (Content-Length from the backend, streamed in 64 KiB writes), ${rounds} rounds alternating, median; per round: route ${speed[BASE].map((x) => x.toFixed(0)).join("/")}, bare ${speed[PASS].map((x) => x.toFixed(0)).join("/")} MB/s`);
  note(`2: workerd CPU per MiB (median): route ${median(cpu[BASE]).toFixed(2)} ms, bare ${median(cpu[PASS]).toFixed(2)} ms`);
  const ratio = proxy / bare;
  return ["2", `${BIG / MiB} MiB streamed: route vs bare fetch() (MB/s = 10^6 B/s)`, `${fmt(proxy)} MB/s`, `${fmt(bare)} MB/s`, ratioText(ratio, GOAL), GOAL, ratio >= 0.9 ? "pass" : "MISS"];
}

/* ------------------------------------------------------------------ figure 3 */

async function figureThrottle({ stack, note }) {
  const rows = [];
  for (const r of PROXY_RATES) {
    const n = Math.ceil(r.bytesPerSecond * (THROTTLE_SECONDS + 5));
    log(`  ${r.label}: one download through /t/${r.key}/, ${THROTTLE_SECONDS} s...`);
    const c0 = await cpuMs(stack.pid());
    const t = performance.now();
    const d = await timedDownload(`${stack.url(BASE)}/t/${r.key}/bytes?n=${n}`, THROTTLE_SECONDS, CLIENT);
    const cpu = ((await cpuMs(stack.pid())) - c0) / ((performance.now() - t) / 1000);
    const err = (d.bytesPerSecond - r.bytesPerSecond) / r.bytesPerSecond;
    if (d.contentLength !== String(n)) note(`3: ${r.label}: Content-Length ${d.contentLength ?? "absent"}, expected ${n}`);
    rows.push([`"throttle": ${JSON.stringify(r.spec)}`, fmt(r.bytesPerSecond), fmt(d.bytesPerSecond), `${err >= 0 ? "+" : ""}${fmt(err * 100, 2)}`, Math.abs(err) <= TOLERANCE ? "yes" : "NO", fmt(cpu, 1)]);
    await sleep(300);
  }
  note(`3: one download per route for ${THROTTLE_SECONDS} s: bytes after the first data event / time from it to the last event in the window (Node http client; backend body = rate × ${THROTTLE_SECONDS + 5} s, with Content-Length, kept end to end); routes /t/<rate>/ round-robin over both ports`);
  return rows;
}

/* ------------------------------------------------------------------ main */

async function main() {
  installSignalHandlers();
  const tmp = await mkdtemp(path.join(os.tmpdir(), "offload-bench-proxy-"));
  onCleanup(() => rm(tmp, { recursive: true, force: true }));
  const noise = startNoiseMonitor();
  onCleanup(async () => noise.stop());
  const notes = [];
  const note = (n) => notes.push(n);
  const header = [
    `${new Date().toISOString()}, commit ${gitDescribe(ROOT)}, Node ${process.version}, miniflare ${JSON.parse(await readFile(path.join(ROOT, "node_modules/miniflare/package.json"), "utf8")).version}`,
    `${QUICK ? "QUICK mode (BENCH_QUICK=1)" : "full mode"}; ${os.cpus().length} cores, load average at start ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}, ${await otherWorkerds()} workerd process(es) running before ours`,
    "runtime: workerd through the Miniflare API, ONE process for the base (wrangler.base.toml bundle, PROXY_ROUTES), the bare pass-through worker (fetch(BACKEND + path), returned as is) and the bare forwarding one (1c), direct sockets; backend: one Node process on two keep-alive ports; no Cron Trigger",
  ];

  let bundlePath = PREBUILT;
  if (bundlePath) {
    header.push(`bundle: ${bundlePath} (BENCH_BUNDLE, not built from src/)`);
  } else {
    log("building the base bundle (wrangler deploy --dry-run -c wrangler.base.toml)...");
    const building = new AbortController();
    onCleanup(async () => building.abort());
    bundlePath = await buildWorkerBundle({ root: ROOT, outdir: path.join(tmp, "build"), config: "wrangler.base.toml", signal: building.signal });
  }
  const workerConfig = await readWorkerConfig(ROOT, "wrangler.base.toml");

  const backend = await startBackend();
  log(`backend ${backend.urls.join(", ")} (pid ${backend.pid})`);
  const backends = backend.urls.map((url, i) => ({ id: `b${i + 1}`, url }));
  const routes = [
    { prefix: "/p/", backends, balancer: "round-robin", forwarded: true },
    ...PROXY_RATES.map((r) => ({ prefix: `/t/${r.key}/`, backends, balancer: "round-robin", throttle: r.spec })),
  ];
  header.push(`PROXY_ROUTES: ${JSON.stringify(routes)}`);
  const stackOptions = (persistDir) => ({
    bundlePath,
    workerConfig,
    persistDir,
    // PUBLIC_URL as a deployment sets it: X-Forwarded-Host/-Proto come only from it.
    baseVars: { ...workerConfig.vars, ORIGIN_URL: backend.urls[0], PUBLIC_URL: "http://www.bench.invalid", PROXY_ROUTES: JSON.stringify(routes) },
    passBackend: backend.urls[0],
    publicHost: "www.bench.invalid",
    onBoot: installSignalHandlers,
  });
  const stack = await startProxyStack(stackOptions(path.join(tmp, "state")));
  onCleanup(() => stack.close());
  log(`workerd pid ${stack.pid()}: base ${stack.url(BASE)}, bare ${stack.url(PASS)}`);

  const ctx = { stack, backend, note };
  const head = ["#", "figure", "proxy", "baseline", "ratio", "goal", "result"];
  const rows = [];
  const others = [];
  let failed = false;
  const figure = async (id, what, fn) => {
    if (ONLY && !ONLY.has(id)) return true;
    log(`figure ${id}: ${what}...`);
    noise.mark();
    try {
      await fn();
    } catch (err) {
      failed = true;
      note(`${id}: could not be measured: ${err instanceof Error ? err.message : err}`);
      return false;
    } finally {
      others.push(`${id}: ${noise.mark().toFixed(2)}`);
    }
    return true;
  };
  if (!(await figure("1", "1 KiB GET req/s", async () => rows.push(...(await figureRequests(ctx)).rows)))) rows.push(["1", "1 KiB GET req/s", "error", "", "", "≥ 0.90", "MISS"]);
  if (!(await figure("2", `${BIG / MiB} MiB stream`, async () => rows.push(await figureStream(ctx))))) rows.push(["2", `${BIG / MiB} MiB streamed`, "error", "", "", "≥ 0.90", "MISS"]);
  const tHead = ["route throttle", "target B/s", "measured B/s", "error %", "within ±5 %", "workerd CPU ms/s"];
  let tRows = [];
  if (!(await figure("3", "throttle accuracy", async () => (tRows = await figureThrottle(ctx))))) tRows = [["error", "", "", "", "NO", ""]];

  const skip = await countedSkipReason(!ONLY || ONLY.has("1i"));
  if (skip) note(`1i: not run (${skip})`);
  else {
    log("figure 1i: instructions per request under callgrind (a second workerd)...");
    await stack.close();
    try {
      const start = () => startProxyStack(stackOptions(path.join(tmp, "state-counted")));
      rows.push(...(await withCountedStack(tmp, start, (counted, dumps) => figureInstructions({ ...ctx, stack: counted, dumps }))));
    } catch (err) {
      failed = true;
      rows.push(["1i", "instructions per 1 KiB GET", "error", "", "", GOAL, "MISS"]);
      note(`1i: could not be measured: ${err instanceof Error ? err.message : err}`);
    }
  }
  note(`cores used by other processes (not ours) during each figure, average: ${others.join(", ")} (2 cores in total: anything above ~0.1 skews the figures)`);
  header.push(`total bench time ${((performance.now() - started) / 1000).toFixed(0)} s; load average at end ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}`);

  const right = new Set([2, 3, 4]);
  const tRight = new Set([1, 2, 3, 5]);
  console.log(`\n${header.join("\n")}\n\n${textTable(head, rows, right)}\n\nThrottle through a proxy route (${THROTTLE_SECONDS} s per download${QUICK ? ", QUICK" : ""})\n${textTable(tHead, tRows, tRight)}\n\nNotes:\n${notes.map((n) => `- ${n}`).join("\n")}\n`);
  const md = [
    "# Reverse-proxy (PROXY_ROUTES) benchmark", "", ...header.map((h) => `- ${h}`), "",
    "## Route vs bare pass-through", "", mdTable(head, rows, right), "",
    `## Throttle through a proxy route (${THROTTLE_SECONDS} s per download)`, "", mdTable(tHead, tRows, tRight), "",
    "## Notes", "", ...notes.map((n) => `- ${n}`), "",
  ].join("\n");
  if (PREBUILT) return failed ? 1 : 0; // a patched bundle's figures are not the project's
  const outDir = path.join(ROOT, "bench-results");
  await mkdir(outDir, { recursive: true });
  await writeFile(path.join(outDir, ".gitignore"), "*\n");
  await writeFile(path.join(outDir, "proxy.md"), md);
  log("wrote bench-results/proxy.md");
  return failed ? 1 : 0;
}

await runBench(main, log, "workerd and the backend");
