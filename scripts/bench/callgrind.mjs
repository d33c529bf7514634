/**
 * Instructions per request, counted by valgrind's callgrind in the workerd process: a
 * figure that does not move with what else this machine runs (request rates here vary
 * ±10–20 % between identical runs; instruction counts for the same binary, inputs and
 * state repeat). Not a rate: cache misses and syscalls cost time callgrind does not weigh,
 * so it stands beside the req/s figures, not in their place.
 *
 * How: Miniflare starts workerd through MINIFLARE_WORKERD_PATH, pointed at a wrapper that
 * runs it under `valgrind --tool=callgrind`; for each worker measured, `callgrind_control
 * --zero` before its requests and `--dump` after, and the dump's summary line is the
 * count for exactly those requests (every thread of the process, the worker's background
 * work that fell inside the window included). Under valgrind workerd runs ~30–50× slower
 * on the wall clock, so timers (view refreshes, flushes) fire more often per request than
 * in production: small against the requests, and the same for every variant of one run.
 */
import { execFile } from "node:child_process";
import { chmod, mkdir, mkdtemp, readdir, readFile, rename, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { promisify } from "node:util";
import { onCleanup } from "./procs.mjs";

const exec = promisify(execFile);

/** BENCH_CALLGRIND=0 leaves the counted figures out (they need valgrind and add about three minutes). */
const CALLGRIND_WANTED = process.env.BENCH_CALLGRIND !== "0";

/** Whether valgrind and callgrind_control are installed (Debian: apt-get install -y valgrind). */
async function callgrindAvailable() {
  try {
    await exec("valgrind", ["--version"]);
    await exec("callgrind_control", ["-h"]).catch((e) => { if (e.code === "ENOENT") throw e; });
    return true;
  } catch {
    return false;
  }
}

/** Why a counted figure is not run (for its note), or null when it can be: `wanted` is BENCH_ONLY's say. */
export async function countedSkipReason(wanted) {
  if (!CALLGRIND_WANTED) return "BENCH_CALLGRIND=0";
  if (!wanted) return "BENCH_ONLY";
  if (!(await callgrindAvailable())) return "valgrind is missing (apt-get install -y valgrind)";
  return null;
}

/**
 * A second workerd under callgrind for a counted figure: `start()` boots it (Miniflare reads
 * the wrapper's settings at spawn), `figure(stack, dumps)` counts, and the stack is closed
 * whatever happens. Dumps go to a new folder under `tmp`, or BENCH_CALLGRIND_DUMPS.
 */
export async function withCountedStack(tmp, start, figure) {
  const dumps = await dumpDir(await mkdtemp(path.join(tmp, "callgrind-")));
  const restore = await underCallgrind(tmp, dumps.dir);
  let stack;
  try {
    stack = await start();
  } finally {
    restore();
  }
  // Closed on an interrupt too (procs.mjs), not only after the figure.
  onCleanup(() => stack.close());
  try {
    return await figure(stack, dumps);
  } finally {
    await stack.close();
  }
}

/**
 * Under valgrind V8's background TurboFan jobs were seen to start and never finish (Maglev's
 * did), which would leave hot functions in Maglev or the interpreter, where a busy isolate
 * in production does not stay: TurboFan compiles on the main thread here instead. And V8
 * optimises after ~3000 calls with stable feedback, while a few thousand requests per
 * worker take minutes under valgrind: a tenth of those counts gets every hot function to
 * its optimised code within the warm-up (code V8 would make later anyway).
 */
const TIER_UP_SOONER = "--no-concurrent-recompilation --invocation-count-for-maglev=40 --invocation-count-for-turbofan=300 --minimum-invocations-after-ic-update=50";

/**
 * Points Miniflare's next workerd start at a callgrind wrapper written to `scratch`, its
 * dumps going to `dumps`; returns a function that restores the previous settings.
 */
export async function underCallgrind(scratch, dumps) {
  // The binary Miniflare itself would start (the workerd package's default export).
  const binary = createRequire(import.meta.url)("workerd").default;
  const wrapper = path.join(scratch, "workerd-callgrind.sh");
  await writeFile(wrapper, [
    "#!/bin/sh",
    // No cache or branch simulation, no per-line data: only the instruction count, fastest.
    `exec valgrind --tool=callgrind --callgrind-out-file=${path.join(dumps, "callgrind.%p")} --dump-line=no --dump-instr=no --cache-sim=no --branch-sim=no ${JSON.stringify(binary)} "$@"`,
    "",
  ].join("\n"));
  await chmod(wrapper, 0o755);
  const saved = { MINIFLARE_WORKERD_PATH: process.env.MINIFLARE_WORKERD_PATH, MINIFLARE_WORKERD_V8_FLAGS: process.env.MINIFLARE_WORKERD_V8_FLAGS };
  process.env.MINIFLARE_WORKERD_PATH = wrapper;
  process.env.MINIFLARE_WORKERD_V8_FLAGS = [saved.MINIFLARE_WORKERD_V8_FLAGS, TIER_UP_SOONER].filter(Boolean).join(" ");
  return () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}

/**
 * Where the dumps go: BENCH_CALLGRIND_DUMPS=<dir> keeps them, `<worker>.<window>.callgrind`
 * per window counted, for `callgrind_annotate` (workerd's own functions are named: its binary
 * is not stripped; JIT-compiled JavaScript shows as unnamed addresses). Else `fallback`.
 */
export async function dumpDir(fallback) {
  const keep = process.env.BENCH_CALLGRIND_DUMPS;
  if (!keep) return { dir: fallback, kept: false };
  await mkdir(keep, { recursive: true });
  return { dir: path.resolve(keep), kept: true };
}

/**
 * V8's optimising compilers, entered per function compiled (TurboFan runs on the main
 * thread here, Maglev in background jobs and a main-thread finish). Their work is left out
 * of the count: it follows the wall clock (a view refreshed every 2 s brings new objects,
 * a deoptimisation and a recompile), and under valgrind's ~50× slower clock one compile
 * lands on ~50× fewer requests than in production.
 */
const COMPILING = /^v8::internal::(Compiler::CompileOptimized\(|Compiler::Finalize\w*CompilationJob|maglev::MaglevConcurrentDispatcher::JobTask::Run|Compiler::CompileOptimizedOSR)/;

/** Instructions in `text` (a callgrind dump): the summary, and those inside the functions `inside` matches (inclusive; they must not call each other). */
function dumpCounts(text, inside = COMPILING) {
  const m = /^summary: (\d+)/m.exec(text) ?? /^totals: (\d+)/m.exec(text);
  if (!m) throw new Error("no summary line in the callgrind dump");
  // Name compression (callgrind format): "(id) name" on first use, "(id)" after.
  const names = new Map();
  let callee = "";
  let callLine = false;
  let within = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith("cfn=") || line.startsWith("fn=")) {
      const rest = line.slice(line.indexOf("=") + 1);
      const id = /^\((\d+)\)(?: (.*))?$/.exec(rest);
      let name = rest;
      if (id) {
        if (id[2] !== undefined) names.set(id[1], id[2]);
        name = names.get(id[1]) ?? rest;
      }
      if (line.startsWith("cfn=")) callee = name;
    } else if (line.startsWith("calls=")) {
      callLine = true;
    } else if (callLine) {
      // The line after calls= holds the call's inclusive cost: the callee's, from this site.
      callLine = false;
      if (inside.test(callee)) within += Number(line.split(" ")[1] ?? 0);
    }
  }
  return { total: Number(m[1]), within };
}

/**
 * Instructions the process `pid` (workerd under callgrind, dumps in `dir`) ran while
 * `work` did, and how many of them were V8 compiling (see COMPILING); with `name`, the
 * dump is kept as `<name>.callgrind`.
 */
async function countInstructions(pid, dir, work, name) {
  await exec("callgrind_control", ["--zero", String(pid)]);
  await work();
  const before = new Set(await readdir(dir));
  await exec("callgrind_control", ["--dump", String(pid)]);
  const dump = (await readdir(dir)).find((f) => !before.has(f) && f.startsWith(`callgrind.${pid}.`));
  if (!dump) throw new Error(`callgrind wrote no dump for pid ${pid}`);
  const counts = dumpCounts(await readFile(path.join(dir, dump), "utf8"));
  if (name) await rename(path.join(dir, dump), path.join(dir, `${name}.callgrind`));
  return { total: counts.total, compiling: counts.within };
}

/**
 * The counted figure's loop, one worker at a time in `workers` (name -> URL): `warmup`
 * rounds over all of them, then per worker `windows` windows of `requests` requests, each
 * counted on its own; `ask(url, i)` makes request i and throws on a wrong answer. Returns
 * per worker the median window's instructions per request (compiling left out), and each
 * window's figures for the notes.
 */
export async function countedWindows({ pid, dumps, workers, ask, warmup, windows, requests }) {
  for (let i = 0; i < warmup; i++) for (const url of Object.values(workers)) await ask(url, i);
  const per = {};
  const each = {};
  const compiling = {};
  for (const [name, url] of Object.entries(workers)) {
    each[name] = [];
    compiling[name] = [];
    for (let k = 0; k < windows; k++) {
      const counted = await countInstructions(pid, dumps.dir, async () => {
        for (let i = 0; i < requests; i++) await ask(url, i);
      }, dumps.kept ? `${name}.${k}` : undefined);
      each[name].push((counted.total - counted.compiling) / requests);
      compiling[name].push(counted.compiling / requests);
    }
    per[name] = [...each[name]].sort((a, b) => a - b)[Math.floor(windows / 2)];
  }
  const k = (x) => Math.round(x / 1000);
  const text = Object.keys(workers).map((w) => `${w} ${k(per[w])}k (${each[w].map(k).join("/")}; ${compiling[w].map(k).join("/")})`).join(", ");
  return { per, text };
}
