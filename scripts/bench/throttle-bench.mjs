/**
 * Throttle accuracy and cost: src/throttle in a real workerd (Miniflare API, direct
 * socket), downloaded by plain Node HTTP clients.
 *
 * For each rate in throttle-rates.mjs, one download for SECONDS: the measured rate is the
 * bytes received after the first data event divided by the time from that event to the
 * last one inside the window (the first slice and the connection set-up are excluded).
 * Then CONCURRENT downloads at V.92 at once. CPU is user + system time of the workerd
 * process (/proc/<pid>/stat) over the run, per second of wall time; an idle row shows
 * what workerd costs doing nothing. Accuracy is reported, not asserted: this is a bench.
 *
 * BENCH_QUICK=1: 3 s per run instead of 10.
 */
import { readdir, readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import { readWorkerConfig } from "../stack/worker-build.mjs";
import { BENCH_RATES } from "./throttle-rates.mjs";
import { timedDownload } from "./proxy-throttle.mjs";
import { cpuMs } from "./procs.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const QUICK = process.env.BENCH_QUICK === "1";
const SECONDS = QUICK ? 3 : 10;
const IDLE_SECONDS = QUICK ? 1 : 3;
const CONCURRENT = 100;
const TOLERANCE = 0.05;

const log = (msg) => process.stderr.write(`[bench-throttle] ${msg}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Bundle the bench worker (and src/throttle, TypeScript) into one ES module string. */
async function bundleWorker() {
  const out = await build({
    entryPoints: [path.join(ROOT, "scripts/bench/throttle-worker.mjs")],
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    write: false,
    logLevel: "error",
  });
  return out.outputFiles[0].text;
}

/** PIDs of workerd processes whose parent is this Node process. */
async function workerdChildren() {
  const pids = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => "");
    const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (ppid === process.pid && comm.startsWith("workerd")) pids.push(Number(entry));
  }
  return pids;
}


async function rssMiB(pid) {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN) / 1024;
}

/**
 * GET `url` for `seconds` after its first data event, then hang up (the throttle's cancel
 * reaches the generator). Resolves with the measured rate and the framing headers seen.
 */
async function download(url, seconds) {
  const d = await timedDownload(url, seconds);
  const asked = new URL(url).searchParams.get("bytes");
  const framing = d.contentLength === asked ? "Content-Length" : d.contentLength ? "wrong Content-Length" : `Transfer-Encoding: ${d.transferEncoding}`;
  return { bytesPerSecond: d.bytesPerSecond, span: d.span, framing };
}

const fmt = (n, digits = 0) => (Number.isFinite(n) ? n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits }) : "n/a");

function table(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => `| ${cells.map((c, i) => String(c).padEnd(widths[i])).join(" | ")} |`;
  return [line(header), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)].join("\n");
}

async function main() {
  const started = performance.now();
  log(`${QUICK ? "QUICK mode (BENCH_QUICK=1)" : "full mode"}: ${SECONDS} s per run; ${os.cpus().length} cores; load average ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}`);
  log("bundling scripts/bench/throttle-worker.mjs + src/throttle with esbuild...");
  const script = await bundleWorker();
  const config = await readWorkerConfig(ROOT);

  const before = new Set(await workerdChildren());
  const mf = new Miniflare(convertV4MiniflareOptions({
    host: "127.0.0.1",
    port: 0,
    workers: [{
      name: "throttle",
      modules: true,
      script,
      compatibilityDate: config.compatibilityDate,
      compatibilityFlags: config.compatibilityFlags,
      unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
    }],
  }));
  let closing;
  const close = () => (closing ??= mf.dispose().catch((e) => log(`dispose: ${e.message}`)));
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.removeAllListeners(sig);
    process.on(sig, () => void close().finally(() => process.exit(130)));
  }

  try {
    await mf.ready;
    const direct = await mf.unsafeGetDirectURL("throttle");
    const base = `http://${direct.hostname}:${direct.port}`;
    const fresh = (await workerdChildren()).filter((p) => !before.has(p));
    if (fresh.length !== 1) throw new Error(`expected one new workerd child process, found ${fresh.length}`);
    const pid = fresh[0];
    log(`workerd pid ${pid}, worker at ${base}`);

    const rates = await (await fetch(`${base}/rates`)).json();
    const url = (key, bytesPerSecond) => `${base}/?rate=${key}&bytes=${Math.ceil(bytesPerSecond * (SECONDS + 5))}`;

    // Idle baseline: what workerd costs with no request at all.
    let cpu0 = await cpuMs(pid);
    await sleep(IDLE_SECONDS * 1000);
    const idleCpu = (await cpuMs(pid)) - cpu0;
    const rows = [["(idle workerd)", "-", "-", "-", "-", fmt(idleCpu / IDLE_SECONDS, 1)]];
    const framing = [];

    for (const r of rates) {
      log(`${r.label}: one download, ${SECONDS} s...`);
      cpu0 = await cpuMs(pid);
      const t = performance.now();
      const d = await download(url(r.key, r.bytesPerSecond), SECONDS);
      const cpu = ((await cpuMs(pid)) - cpu0) / ((performance.now() - t) / 1000);
      framing.push(d.framing);
      const err = (d.bytesPerSecond - r.bytesPerSecond) / r.bytesPerSecond;
      rows.push([r.label, fmt(r.bytesPerSecond), fmt(d.bytesPerSecond), fmt(err * 100, 2), Math.abs(err) <= TOLERANCE ? "yes" : "NO", fmt(cpu, 1)]);
      await sleep(300);
    }

    const v92 = rates.find((r) => r.key === "v92");
    log(`${v92.label} x ${CONCURRENT} concurrent downloads, ${SECONDS} s...`);
    const rss0 = await rssMiB(pid);
    cpu0 = await cpuMs(pid);
    const t = performance.now();
    const all = await Promise.all(Array.from({ length: CONCURRENT }, () => download(url(v92.key, v92.bytesPerSecond), SECONDS)));
    const wall = (performance.now() - t) / 1000;
    const cpu = ((await cpuMs(pid)) - cpu0) / wall;
    const rss1 = await rssMiB(pid);
    framing.push(...all.map((d) => d.framing));
    const each = all.map((d) => d.bytesPerSecond);
    const total = each.reduce((a, b) => a + b, 0);
    const target = v92.bytesPerSecond * CONCURRENT;
    const err = (total - target) / target;
    const worst = Math.max(...each.map((m) => Math.abs(m - v92.bytesPerSecond) / v92.bytesPerSecond));
    rows.push([`${v92.label} x ${CONCURRENT} (sum)`, fmt(target), fmt(total), fmt(err * 100, 2), Math.abs(err) <= TOLERANCE ? "yes" : "NO", fmt(cpu, 1)]);

    console.log(`\nmod_dialup on Workers: src/throttle in workerd (Miniflare), ${SECONDS} s per download, Node http client${QUICK ? " (QUICK)" : ""}\n`);
    console.log(table(["preset", "target B/s", "measured B/s", "error %", "within ±5%", "workerd CPU ms / s"], rows));
    console.log(`\n${CONCURRENT} x ${v92.label}: per connection ${fmt(Math.min(...each))}..${fmt(Math.max(...each))} B/s (worst error ${fmt(worst * 100, 2)} %); workerd RSS ${fmt(rss0, 1)} -> ${fmt(rss1, 1)} MiB`);
    const kinds = Object.entries(Object.groupBy(framing, (f) => f)).map(([f, l]) => `${f} ${l.length}`);
    console.log(`framing seen by the client (responses): ${kinds.join(", ")} of ${framing.length}`);
    console.log(`CPU: user+sys of the whole workerd process (10 ms ticks) per second of wall time; ${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}; total bench time ${fmt((performance.now() - started) / 1000, 1)} s`);
  } finally {
    log("stopping workerd...");
    await close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
