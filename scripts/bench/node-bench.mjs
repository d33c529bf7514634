/**
 * Offload node benchmark: the node and bare baseline workers in ONE workerd (Miniflare
 * API, direct sockets), same run, figures printed as ratios against the baselines.
 * Run through `bash scripts/bench-node`; BENCH_QUICK=1 for a shorter run (256 MiB instead
 * of 1 GiB, shorter load runs); BENCH_ONLY=1,3 runs only those figures (ids as printed);
 * BENCH_BUNDLE=path/index.js measures a prebuilt bundle (a patched copy of src/);
 * BENCH_NO_STATS=1 leaves STATS unbound (what the offload totals' counting costs, by difference);
 * BENCH_NODE_VARS='{"MAX_CONNECTIONS_PER_CLIENT":"0"}' adds vars to every node worker
 * (CHUNK_SIZE among them); BENCH_CHUNK_SIZES=4,8,16 adds figure 9, the chunk-size sweep
 * (MiB) that runs figures 5 (8 clients) and 8 once per size.
 * Speed goals live here, never in timed unit tests.
 *
 * Everything runs on temp state (origin files, R2/Cache/DO persistence, the bundle), all
 * removed at the end; the Markdown table goes to bench-results/node.md.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { buildWorkerBundle, readWorkerConfig } from "../stack/worker-build.mjs";
import { startOrigin } from "./origin.mjs";
import { installSignalHandlers, onCleanup, runBench } from "./procs.mjs";
import { startBenchStack } from "./stack.mjs";
import { figureBigHit, figureHitCounted, figureHitRate, fmtSize } from "./fig-hits.mjs";
import { figureSlowClients } from "./fig-memory.mjs";
import { figureFillMemory, figureFirstByte } from "./fig-fills.mjs";
import { figureCrowd } from "./fig-crowd.mjs";
import { figureSlice } from "./fig-slice.mjs";
import { figureColo } from "./fig-colo.mjs";
import { figureSweep } from "./fig-sweep.mjs";
import { chunkSizeOf } from "./cold-util.mjs";
import { statsFlushSeconds } from "../../src/config/stats-flush.ts";
import { markdown, plainTable, textTable } from "./report.mjs";
import { startNoiseMonitor } from "./noise.mjs";
import { gitDescribe, otherWorkerds } from "./run-info.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const QUICK = process.env.BENCH_QUICK === "1";
const NO_STATS = process.env.BENCH_NO_STATS === "1";
const MiB = 1024 ** 2;
const FRESH_SECONDS = "31536000"; // REVALIDATE_SECONDS for "no origin HEAD on a hit"

const started = performance.now();
const log = (msg) => process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(0).padStart(3)}s] ${msg}\n`);

/**
 * The files the origin serves up front (deterministic pattern content, one seed per
 * path); figures 5, 7, 8 and 9 create their own large files when they run.
 */
function plan(chunkSize) {
  const big = QUICK ? 256 * MiB : 1024 * MiB;
  const f = (p, size) => ({ path: p, size });
  // Figure 6's cold objects, five in either mode: a fresh fill coordinator's first call
  // (its SQLite file created on this VM's disk) takes 7-13 ms, now and then 40+ ms, and
  // one or two such spikes in three samples made the median (21.7/105.6/59.0 ms in one run).
  const reps = 5;
  return {
    hit: f("/hit-1k.bin", 1024),
    big: f(QUICK ? "/big-256m.bin" : "/big-1g.bin", big),
    fillSmall: f(`/fill-${big / 4 / MiB}m.bin`, big / 4),
    // One chunk, so node and baseline each read one R2 object (see fig-memory.mjs).
    slow: f("/slow.bin", Math.min(8 * MiB, chunkSize) - 64 * 1024),
    warm: [f("/warm-a.bin", 2 * MiB), f("/warm-b.bin", 2 * MiB)],
    ttfbWarm: f("/ttfb-warm.bin", 16 * MiB),
    ttfb: Array.from({ length: reps }, (_, i) => ({ node: f(`/ttfb-node-${i}.bin`, 16 * MiB), direct: f(`/ttfb-origin-${i}.bin`, 16 * MiB) })),
  };
}

function allFiles(files) {
  return [files.hit, files.big, files.fillSmall, files.slow, ...files.warm, files.ttfbWarm, ...files.ttfb.flatMap((p) => [p.node, p.direct])];
}

/** Other busy processes skew every figure on a 2-core machine: say so. */
async function main() {
  installSignalHandlers();
  const tmp = await mkdtemp(path.join(os.tmpdir(), "offload-bench-"));
  onCleanup(() => rm(tmp, { recursive: true, force: true }));
  // BENCH_NODE_VARS='{"NAME":"value"}': extra vars for every node worker (trying variants).
  const extraVars = JSON.parse(process.env.BENCH_NODE_VARS ?? "{}");
  const workerConfig = await readWorkerConfig(ROOT);
  const chunkSize = chunkSizeOf({ ...workerConfig.vars, ...extraVars });
  const files = plan(chunkSize);
  const notes = [];
  const tables = [];
  const note = (n) => notes.push(n);
  const header = [
    `${new Date().toISOString()}, commit ${gitDescribe(ROOT)}, Node ${process.version}, miniflare ${JSON.parse(await readFile(path.join(ROOT, "node_modules/miniflare/package.json"), "utf8")).version}`,
    `${QUICK ? "QUICK mode (BENCH_QUICK=1)" : "full mode"}: big object ${fmtSize(files.big.size)}; ${os.cpus().length} cores, load average at start ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}, ${await otherWorkerds()} other workerd process(es) running`,
    "runtime: workerd through the Miniflare API, one process for node and baseline workers (same R2 bucket, same Cache API), direct sockets; fresh temp persist dir",
    `node workers: "node" = wrangler.toml [vars] (REVALIDATE_SECONDS=0, guard 2 per client+URL); "node-fresh" = REVALIDATE_SECONDS=${FRESH_SECONDS} (no origin HEAD on hits); "node-r2" = REVALIDATE_SECONDS=${FRESH_SECONDS} + CACHE_API_MAX_BYTES=0 (serves R2 like the R2 baseline); CHUNK_SIZE ${chunkSize / MiB} MiB; ${NO_STATS ? "STATS unbound (BENCH_NO_STATS=1): no offload totals, no delivered-byte counting" : `every node records its answers to a real OffloadStats (STATS, as deployed; flush every STATS_FLUSH_SECONDS=${statsFlushSeconds({ ...workerConfig.vars, ...extraVars })} s)`}`,
  ];

  log("building the worker bundle (wrangler deploy --dry-run)...");
  const building = new AbortController();
  onCleanup(async () => building.abort());
  // BENCH_BUNDLE: measure a prebuilt bundle instead (e.g. a patched copy of src/ being tried out).
  const bundlePath = process.env.BENCH_BUNDLE
    ? path.resolve(process.env.BENCH_BUNDLE)
    : await buildWorkerBundle({ root: ROOT, outdir: path.join(tmp, "build"), signal: building.signal });
  if (process.env.BENCH_BUNDLE) header.push(`BENCH_BUNDLE=${bundlePath} (not built from src/)`);

  const origin = await startOrigin(path.join(tmp, "origin"));
  log(`origin ${origin.url}; generating ${allFiles(files).length} files...`);
  for (const f of allFiles(files)) await origin.control.createFile(f.path, f.size);

  if (Object.keys(extraVars).length) header.push(`BENCH_NODE_VARS=${JSON.stringify(extraVars)} (all node workers)`);
  const base = { ...workerConfig.vars, ...extraVars, ORIGIN_URL: origin.url };
  const stack = await startBenchStack({
    bundlePath,
    workerConfig,
    persistDir: path.join(tmp, "state"),
    originUrl: origin.url,
    nodes: {
      node: base, // first: owns the Durable Objects
      "node-fresh": { ...base, REVALIDATE_SECONDS: FRESH_SECONDS },
      "node-r2": { ...base, REVALIDATE_SECONDS: FRESH_SECONDS, CACHE_API_MAX_BYTES: "0" },
    },
    onBoot: installSignalHandlers,
    withStats: !NO_STATS,
  });
  onCleanup(() => stack.close());
  const table = (t) => tables.push(t);
  const ctx = { stack, origin, files, quick: QUICK, note, log, chunkSize, extraVars, table, tmp };

  // [id, title, function, timing-sensitive]; order matters: 4 stores the big object 2 reads.
  const figures = [
    ["4", "cold-fill peak RSS growth", figureFillMemory, false],
    ["6", "first byte of a cold object", figureFirstByte, true],
    ["5", "cold crowds of 1, 8, 32 clients (48 MiB)", figureCrowd, true],
    ["7", "cold last-MiB range of a 2 GiB file", figureSlice, false],
    ["8", "768 MiB second download from the colo tier", figureColo, true],
    ["1", "1 KiB hit req/s", figureHitRate, true],
    ["2", `${fmtSize(files.big.size)} hit throughput`, figureBigHit, true],
    ["3", "RSS per in-flight download", figureSlowClients, false],
    // Under valgrind in a workerd of its own, after the timed figures.
    ["1i", "1 KiB hit, instructions per request (callgrind)", figureHitCounted, false],
    // Long (two fills per size): only when asked for.
    ...(process.env.BENCH_CHUNK_SIZES ? [["9", "CHUNK_SIZE sweep", figureSweep, true]] : []),
  ];
  const only = process.env.BENCH_ONLY?.split(",").map((s) => s.trim()).filter(Boolean);
  if (only) header.push(`BENCH_ONLY=${only.join(",")}: other figures skipped`);
  const rows = [];
  const noise = startNoiseMonitor();
  onCleanup(async () => noise.stop());
  const busyFigures = [];
  for (const [id, what, fn, timing] of figures.filter(([id]) => !only || only.includes(id))) {
    log(`figure ${id}: ${what}...`);
    noise.mark();
    try {
      rows.push(...(await fn(ctx)));
    } catch (err) {
      rows.push({ id, what, error: true, goal: "" });
      note(`${id}: could not be measured: ${err instanceof Error ? err.message : err}`);
    }
    const others = noise.mark();
    busyFigures.push(`${id}: ${others.toFixed(2)}`);
    if (timing && others > 0.25) note(`${id}: other processes used ${others.toFixed(2)} cores on average meanwhile (of ${os.cpus().length}): a timing figure, unreliable; rerun on a quiet machine.`);
  }
  header.push(`CPU used by other processes per figure (cores): ${busyFigures.join(", ")}`);
  rows.sort((a, b) => a.id.localeCompare(b.id, "en", { numeric: true }));
  notes.sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
  header.push(`total bench time ${((performance.now() - started) / 1000).toFixed(0)} s; load average at end ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}`);

  const extra = tables.map((t) => `\n\n${t.title}\n${plainTable(t.head, t.rows)}`).join("");
  console.log(`\n${header.join("\n")}\n\n${textTable(rows)}${extra}\n\nNotes:\n${notes.map((n) => `- ${n}`).join("\n")}\n`);
  const outDir = path.join(ROOT, "bench-results");
  await mkdir(outDir, { recursive: true });
  // Results are machine-local: keep the folder out of git without touching the repo's .gitignore.
  await writeFile(path.join(outDir, ".gitignore"), "*\n");
  await writeFile(path.join(outDir, "node.md"), markdown({ rows, notes, header, tables }));
  log(`wrote ${path.relative(ROOT, path.join(outDir, "node.md"))}`);
  return rows.some((r) => r.error) ? 1 : 0;
}

await runBench(main, log, "workerd and the origin");
