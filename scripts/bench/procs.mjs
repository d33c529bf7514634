/**
 * Child processes and clean-up. Every child the bench starts (origin, wrk, curl) is
 * spawned through run()/startChild() and remembered, so a normal end, an error or
 * Ctrl-C stops all of them (and the Miniflare/workerd, through registered closers).
 */
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";

/** @type {Set<import("node:child_process").ChildProcess>} */
const children = new Set();
/** @type {Array<() => Promise<void>>} */
const closers = [];

/** Register an async clean-up (closed in reverse order). */
export function onCleanup(fn) {
  closers.push(fn);
}

let cleaning;
/** Stop everything we started: registered closers, then any child still running. */
export function cleanup() {
  cleaning ??= (async () => {
    for (const fn of closers.reverse()) await fn().catch((e) => console.error(`clean-up: ${e?.message ?? e}`));
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  })();
  return cleaning;
}

/**
 * Ctrl-C / SIGTERM: clean up and exit 130; a second signal exits at once.
 * Call again after every Miniflare start: Miniflare adds its own handlers, which exit at once.
 */
export function installSignalHandlers() {
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    // Miniflare installs handlers that exit at once (leaving our origin running): replace them.
    process.removeAllListeners(sig);
    let seen = false;
    process.on(sig, () => {
      if (seen) process.exit(130);
      seen = true;
      console.error(`\n${sig}: stopping workerd, origin and clients...`);
      void cleanup().finally(() => process.exit(130));
    });
  }
  // Last resort on a synchronous exit: children must never outlive us.
  if (!exitHooked) {
    exitHooked = true;
    process.on("exit", () => {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    });
  }
}
let exitHooked = false;

/**
 * Start a long-running child; it is killed by cleanup().
 * @returns {import("node:child_process").ChildProcess}
 */
export function startChild(cmd, args, opts = {}) {
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], ...opts });
  children.add(child);
  child.on("exit", () => children.delete(child));
  return child;
}

/**
 * Run a command to completion; resolves with its output (rejects on an exit code not in okCodes).
 * @returns {Promise<{ stdout: string, stderr: string, code: number }>}
 */
export function run(cmd, args, { timeoutMs = 120_000, okCodes = [0] } = {}) {
  return new Promise((resolve, reject) => {
    const child = startChild(cmd, args);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (e) => { clearTimeout(timer); reject(e); });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code !== null && okCodes.includes(code)) resolve({ stdout, stderr, code });
      else reject(new Error(`${cmd} ${args.join(" ")} exited ${code ?? signal}: ${stderr.trim().slice(0, 500)}`));
    });
  });
}

/** CPU time (user + system) `pid` has used so far in ms (/proc/<pid>/stat fields 14-15, USER_HZ = 100); NaN when it is gone. */
export async function cpuMs(pid) {
  if (!pid) return Number.NaN;
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
  } catch {
    return Number.NaN;
  }
}

/**
 * A bench's entry point: run `main` (its exit code), report a crash, always clean up
 * (`stopping` says what is stopped), then exit with that code.
 * @param {() => Promise<number>} main @param {(msg: string) => void} log @param {string} stopping
 */
export async function runBench(main, log, stopping) {
  let code = 1;
  try {
    code = await main();
  } catch (err) {
    console.error(err instanceof Error ? err.stack : err);
  } finally {
    log(`stopping ${stopping}, removing temp state...`);
    await cleanup();
  }
  process.exit(code);
}
