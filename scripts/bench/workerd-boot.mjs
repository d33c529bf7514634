/**
 * One Miniflare (one workerd process) for a bench's workers, each on its own direct
 * socket; returns their URLs and the workerd PID (for RSS and CPU readings).
 */
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import { INSPECTOR_PORT, PROFILE_WORKER, startProfile } from "./profile.mjs";
export { cpuMs } from "./procs.mjs";

const ALL_LOGS = process.env.BENCH_WORKERD_LOG === "all";

/** Miniflare options every bench uses: loopback, persisted state, workerd's warnings and errors on stderr. */
export function benchMiniflareOptions(workers, persistDir) {
  return convertV4MiniflareOptions({
    host: "127.0.0.1",
    port: 0,
    ...(INSPECTOR_PORT ? { inspectorPort: INSPECTOR_PORT } : {}),
    resourcePersistencePath: path.resolve(persistDir),
    // BENCH_WORKERD_LOG=all: every line workerd logs, e.g. V8's with MINIFLARE_WORKERD_V8_FLAGS="--trace-opt --trace-deopt".
    handleStructuredLogs: (l) => { if (ALL_LOGS || l.level === "error" || l.level === "warn") process.stderr.write(`[workerd ${l.level}] ${l.message}\n`); },
    workers,
  });
}

/**
 * @param {{ workers: object[], persistDir: string, onBoot?: () => void }} opts
 * @returns {Promise<{ url(name: string): string | undefined, pid(): number, close(): Promise<void> }>}
 */
export async function bootWorkerd({ workers, persistDir, onBoot }) {
  const options = benchMiniflareOptions(workers, persistDir);
  const before = new Set(await workerdChildren());
  const mf = new Miniflare(options);
  const urls = new Map();
  let pid = 0;
  try {
    await mf.ready;
    for (const w of workers) {
      const u = await mf.unsafeGetDirectURL(w.name);
      urls.set(w.name, `http://${u.hostname}:${u.port}`);
    }
    const fresh = (await workerdChildren()).filter((p) => !before.has(p));
    pid = fresh.length === 1 ? fresh[0] : 0;
  } catch (err) {
    await mf.dispose().catch(() => {});
    throw err;
  }
  onBoot?.();
  const stopProfile = PROFILE_WORKER && urls.has(PROFILE_WORKER) ? await startProfile() : null;
  let closed = false;
  return {
    url: (name) => urls.get(name),
    pid: () => pid,
    async close() {
      if (closed) return;
      closed = true;
      await stopProfile?.().catch((e) => process.stderr.write(`[profile] ${e}\n`));
      await mf.dispose().catch(() => {});
    },
  };
}

/** PIDs of workerd processes whose parent is this Node process. */
export async function workerdChildren() {
  const out = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      // Under BENCH_CALLGRIND the process is valgrind's tool (callgrind.mjs).
      if (ppid === process.pid && (comm.startsWith("workerd") || comm.startsWith("callgrind"))) out.push(Number(entry));
    } catch { /* gone */ }
  }
  return out;
}

