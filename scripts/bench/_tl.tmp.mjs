// Timeline of one cold fill (client stopped when the origin is done), RSS every 500 ms.
import { mkdtemp } from "node:fs/promises";
import os from "node:os"; import path from "node:path";
import { readWorkerConfig } from "/work/main/scripts/stack/worker-build.mjs";
import { startBenchStack, rssBytes } from "/work/main/scripts/bench/stack.mjs";
import { startOrigin } from "/work/main/scripts/bench/origin.mjs";
import { httpGet, startGet } from "/work/main/scripts/bench/clients.mjs";
import { cleanup, installSignalHandlers, onCleanup } from "/work/main/scripts/bench/procs.mjs";
installSignalHandlers();
const SIZE = Number(process.env.SIZE ?? 1024) * 1024 * 1024;
try {
  const tmp = await mkdtemp(path.join(os.tmpdir(), "bench-exp-"));
  const origin = await startOrigin(path.join(tmp, "origin"));
  await origin.control.createFile("/warm.bin", 2 * 1024 * 1024);
  await origin.control.createFile("/f.bin", SIZE);
  const wc = await readWorkerConfig("/work/main");
  const base = { ...wc.vars, ORIGIN_URL: origin.url, ...JSON.parse(process.env.VARS ?? "{}") };
  const stack = await startBenchStack({ bundlePath: process.env.BUNDLE, workerConfig: wc, persistDir: path.join(tmp, "state"), originUrl: origin.url,
    nodes: { node: base }, onBoot: installSignalHandlers,
    logs: true });
  onCleanup(() => stack.close());
  const pid = stack.pid();
  await httpGet(stack.url("node") + "/warm.bin", { "cf-connecting-ip": "10.0.0.9" });
  const t0 = Date.now();
  const c = startGet(stack.url("node") + "/f.bin", { "cf-connecting-ip": "10.0.0.1" });
  let stopped = false;
  const tl = setInterval(async () => {
    const st = await origin.control.stats("/f.bin");
    console.log(`t=${((Date.now() - t0) / 1000).toFixed(1)} rss=${((await rssBytes(pid)) / 1e6).toFixed(0)}MB origin=${(st.bodyBytes / 1e6).toFixed(0)}MB client=${(c.state.bytes / 1e6).toFixed(1)}MB`);
    if (!stopped && st.bodyBytes >= SIZE && process.env.STOP !== "0") { stopped = true; c.stop(); console.log("client stopped"); }
  }, 1000);
  await new Promise((r) => setTimeout(r, Number(process.env.SECS ?? 90) * 1000));
  clearInterval(tl);
  console.log("t0", t0);
} finally { await cleanup(); }
