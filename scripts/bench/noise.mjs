/**
 * CPU used by processes that are not ours (not this process or its descendants) while
 * the bench runs. On a 2-core machine other work skews every timing, so each figure
 * reports how busy the rest of the machine was meanwhile.
 */
import { readdir, readFile } from "node:fs/promises";

const USER_HZ = 100;

async function snapshot() {
  /** @type {Map<number, { ppid: number, ticks: number }>} */
  const procs = new Map();
  for (const e of await readdir("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = await readFile(`/proc/${e}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      procs.set(Number(e), { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) });
    } catch { /* gone */ }
  }
  return procs;
}

function ours(procs) {
  const mine = new Set([process.pid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, p] of procs) if (!mine.has(pid) && mine.has(p.ppid)) { mine.add(pid); grew = true; }
  }
  return mine;
}

/** Samples every second; mark() returns the average number of cores others used since the last mark. */
export function startNoiseMonitor() {
  let prev = null;
  let otherTicks = 0;
  let since = performance.now();
  let busy = false;
  const tick = async () => {
    if (busy) return;
    busy = true;
    const now = await snapshot();
    if (prev) {
      const mine = ours(now);
      for (const [pid, p] of now) {
        if (mine.has(pid)) continue;
        const before = prev.get(pid);
        otherTicks += before ? Math.max(0, p.ticks - before.ticks) : 0;
      }
    }
    prev = now;
    busy = false;
  };
  void tick();
  const timer = setInterval(tick, 1000);
  timer.unref();
  return {
    /** Average cores used by other processes since the previous mark. */
    mark() {
      const seconds = (performance.now() - since) / 1000;
      const cores = seconds > 0 ? otherTicks / USER_HZ / seconds : 0;
      otherTicks = 0;
      since = performance.now();
      return cores;
    },
    stop() {
      clearInterval(timer);
    },
  };
}
