/**
 * BENCH_PROFILE=<worker name>: a V8 CPU profile of that worker while a bench runs, through
 * workerd's inspector (Profiler domain), summarised as self time per function on stderr
 * and written whole to bench-results/<worker>.cpuprofile (open it in Chrome DevTools).
 * For finding where a figure's time goes; the figures of a profiled run are slower.
 */
import { writeFile, mkdir } from "node:fs/promises";

export const PROFILE_WORKER = process.env.BENCH_PROFILE || null;
export const INSPECTOR_PORT = PROFILE_WORKER ? 9300 + (process.pid % 500) : undefined;

export async function startProfile() {
  const list = await (await fetch(`http://127.0.0.1:${INSPECTOR_PORT}/json/list`)).json();
  const target = list.find((t) => t.id?.endsWith(`:${PROFILE_WORKER}`) || t.title?.includes(PROFILE_WORKER)) ?? list.find((t) => t.webSocketDebuggerUrl?.endsWith(`:${PROFILE_WORKER}`));
  if (!target) throw new Error(`no inspector target for ${PROFILE_WORKER}: ${list.map((t) => t.id).join(", ")}`);
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = reject; });
  let next = 1;
  const waiting = new Map();
  ws.onmessage = (e) => { const m = JSON.parse(e.data); waiting.get(m.id)?.(m); waiting.delete(m.id); };
  const call = (method, params = {}) => new Promise((resolve) => { const id = next++; waiting.set(id, resolve); ws.send(JSON.stringify({ id, method, params })); });
  await call("Profiler.enable");
  await call("Profiler.setSamplingInterval", { interval: 50 });
  await call("Profiler.start");
  return async function stop() {
    const { result } = await call("Profiler.stop");
    ws.close();
    const profile = result.profile;
    await mkdir("bench-results", { recursive: true });
    await writeFile(`bench-results/${PROFILE_WORKER}.cpuprofile`, JSON.stringify(profile));
    const self = new Map();
    let total = 0;
    for (const n of profile.nodes) {
      const f = n.callFrame;
      const name = `${f.functionName || "(anonymous)"} ${f.url.split("/").pop()}:${f.lineNumber + 1}`;
      self.set(name, (self.get(name) ?? 0) + n.hitCount);
      total += n.hitCount;
    }
    const top = [...self].sort((a, b) => b[1] - a[1]).slice(0, 40);
    process.stderr.write(`[profile ${PROFILE_WORKER}] ${total} samples; self time, top 40:\n${top.map(([k, v]) => `${((100 * v) / total).toFixed(1).padStart(5)} %  ${k}`).join("\n")}\n`);
  };
}
