/**
 * The bench's own Miniflare: the node workers AND the bare baseline workers in ONE
 * workerd process (same R2 bucket, same Cache API store, same runtime), each on its
 * own direct socket. startNodeStack (scripts/stack/miniflare-stack.mjs) only runs node
 * workers, so the options are built here the same way it builds them.
 *
 * Node workers (all run the real bundle; the first one owns the Durable Objects):
 *   node        wrangler.toml [vars] + bench overrides (REVALIDATE_SECONDS=0 by default)
 *   node-fresh  the same with REVALIDATE_SECONDS=<fresh> (no origin HEAD on a hit)
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { Miniflare } from "miniflare";
import { BASELINE_SCRIPTS } from "./baselines.mjs";
import { benchMiniflareOptions, workerdChildren } from "./workerd-boot.mjs";
import { PROFILE_WORKER, startProfile } from "./profile.mjs";
import { statsBaseWorker } from "../stack/stats-worker.mjs";
export { cpuMs } from "./procs.mjs";

/**
 * @param {object} o
 * @param {string} o.bundlePath
 * @param {import("../stack/worker-build.mjs").WorkerConfig} o.workerConfig
 * @param {string} o.persistDir
 * @param {Record<string, Record<string, string>>} o.nodes node worker name -> vars (first = DO owner)
 * @param {string} o.originUrl given to the baselines that talk to the origin
 * @param {() => void} [o.onBoot] after every (re)start (Miniflare re-registers signal hooks)
 * @param {boolean} [o.withStats] bind STATS to a real OffloadStats, as deployed (default)
 */
/** The node's ConcurrencyLimiter class (wrangler.toml's CONCURRENCY binding), hosted by `owner`. */
function limiterBinding(workerConfig, owner) {
  const d = workerConfig.durableObjects.find((x) => x.binding === "CONCURRENCY");
  if (!d) throw new Error("wrangler.toml has no CONCURRENCY Durable Object binding");
  return { className: d.className, scriptName: owner, useSQLite: d.sqlite };
}

export async function startBenchStack({ bundlePath, workerConfig, persistDir, nodes, originUrl, onBoot, withStats = true }) {
  const nodeNames = Object.keys(nodes);
  // The nodes record every answer to the base's OffloadStats as deployed nodes do
  // (wrangler.toml STATS, script_name = offload-base): the counting is part of the cost measured.
  const stats = withStats ? await statsBaseWorker() : null;
  const owner = nodeNames[0];
  const direct = [{ host: "127.0.0.1", port: 0 }];
  /** @param {Record<string, string>} extra vars added to every node worker (restart({ nodeVars })) */
  const workersWith = (extra) => [
    ...nodeNames.map((name) => ({
      name,
      modules: true,
      scriptPath: bundlePath,
      modulesRoot: path.dirname(bundlePath), // bundle may live outside the cwd (temp dir)
      compatibilityDate: workerConfig.compatibilityDate,
      compatibilityFlags: workerConfig.compatibilityFlags,
      bindings: { ...nodes[name], ...extra, NODE_ID: name },
      r2Buckets: workerConfig.r2Buckets,
      durableObjects: Object.fromEntries([
        ...workerConfig.durableObjects.map((d) => [
          d.binding,
          name === owner
            ? { className: d.className, useSQLite: d.sqlite }
            : { className: d.className, scriptName: owner, useSQLite: d.sqlite },
        ]),
        ...workerConfig.externalDurableObjects.filter((d) => stats && d.className === "OffloadStats").map((d) => [d.binding, { className: d.className, scriptName: d.scriptName, useSQLite: true }]),
      ]),
      unsafeDirectSockets: direct,
    })),
    ...Object.entries(BASELINE_SCRIPTS).map(([name, script]) => ({
      name,
      modules: true,
      script,
      compatibilityDate: workerConfig.compatibilityDate,
      compatibilityFlags: workerConfig.compatibilityFlags,
      bindings: { ORIGIN_URL: originUrl },
      r2Buckets: workerConfig.r2Buckets, // same binding -> same bucket as the nodes
      // bench-admin reaches the node's own guard objects (figure 3 weighs them alone).
      ...(name === "bench-admin" ? { durableObjects: { LIMITERS: limiterBinding(workerConfig, owner) } } : {}),
      unsafeDirectSockets: direct,
    })),
    ...(stats ? [stats] : []),
  ];
  let workers = workersWith({});
  let options = benchMiniflareOptions(workers, persistDir);

  /** worker name -> direct socket (new ports after a restart). */
  const targets = new Map();
  /** @type {Miniflare | undefined} */
  let mf;
  let workerdPid = 0;
  /** BENCH_PROFILE: the profile of the current workerd process, stopped before it goes. */
  let stopProfile = null;
  const dispose = async () => {
    await stopProfile?.().catch((e) => process.stderr.write(`[profile] ${e}\n`));
    stopProfile = null;
    await mf?.dispose();
  };

  async function boot() {
    const before = new Set(await workerdChildren());
    mf = new Miniflare(options);
    await mf.ready;
    for (const w of workers) {
      if (!w.unsafeDirectSockets) continue; // the stats worker: reached through bindings only
      const u = await mf.unsafeGetDirectURL(w.name);
      targets.set(w.name, { host: u.hostname, port: Number(u.port) });
    }
    const fresh = (await workerdChildren()).filter((p) => !before.has(p));
    if (fresh.length !== 1) throw new Error(`expected one new workerd child process, found ${fresh.length}`);
    workerdPid = fresh[0];
    if (PROFILE_WORKER && targets.has(PROFILE_WORKER)) stopProfile = await startProfile();
    onBoot?.();
  }

  try {
    await boot();
  } catch (err) {
    await mf?.dispose().catch(() => {});
    throw err;
  }

  return {
    /** Direct socket URL of a worker (no CF-Connecting-IP: set it yourself where the guard matters). */
    url: (name) => `http://${targets.get(name).host}:${targets.get(name).port}`,
    target: (name) => targets.get(name),
    pid: () => workerdPid,
    /**
     * Fresh workerd process, same persist dir (for memory figures); `nodeVars` replaces
     * the extra vars of every node worker from now on (the chunk-size sweep).
     * @param {{ nodeVars?: Record<string, string> }} [o]
     */
    async restart({ nodeVars } = {}) {
      await dispose();
      mf = undefined;
      if (nodeVars) {
        workers = workersWith(nodeVars);
        options = benchMiniflareOptions(workers, persistDir);
      }
      await boot();
    },
    async close() {
      await dispose().catch(() => {});
      mf = undefined;
    },
  };
}


/** Resident set size of a process in bytes (VmRSS), or NaN when it is gone. */
export async function rssBytes(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}
