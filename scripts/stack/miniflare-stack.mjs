/**
 * Several offload nodes in ONE Miniflare process, each behind its own edge front.
 *
 * One process on purpose: separate `wrangler dev` processes sharing a persist folder
 * fail with SQLITE_BUSY. Inside one Miniflare the nodes share the R2 bucket, the Cache
 * API store and the Durable Objects (defined by the first node, referenced by the
 * others via scriptName), so request coalescing and per-client limits span all nodes,
 * as they span colos in production. The Cache API is shared too unless a worker opens a
 * named cache: each node gets CACHE_NAME=<its name>, so each stands for its own colo. With the base in the stack, the nodes' bindings to
 * the base's own Durable Objects (script_name, e.g. STATS) point at the base worker.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import { startEdgeFront } from "./edge-front.mjs";
import { readWorkerConfig } from "./worker-build.mjs";

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** node-a, node-b, ... */
export function nodeName(i) {
  return `node-${String.fromCharCode(97 + i)}`;
}

/** The stack's name for the base worker (wrangler.base.toml names it e.g. "offload-base"). */
export const BASE_WORKER = "base";

/**
 * The nodes' bindings to Durable Objects of the base worker (wrangler.toml `script_name`
 * = the base's `name`, e.g. STATS -> OffloadStats), pointed at the stack's base worker.
 * Without a base in the stack (or for any other script_name) the binding is left out:
 * workerd refuses to start with a binding to a worker it does not run, and the node's
 * code treats a missing binding as "feature off" (e.g. no offload totals).
 * @param {import("./worker-build.mjs").WorkerConfig} node
 * @param {import("./worker-build.mjs").WorkerConfig} [base]
 */
export function objectsOfBase(node, base) {
  if (!base) return {};
  const defined = new Map(base.durableObjects.map((d) => [d.className, d]));
  return Object.fromEntries(node.externalDurableObjects
    .filter((d) => d.scriptName === base.name && defined.has(d.className))
    .map((d) => [d.binding, { className: d.className, scriptName: BASE_WORKER, useSQLite: defined.get(d.className).sqlite }]));
}

/**
 * @typedef {object} NodeHandle
 * @property {string} name worker name and NODE_ID
 * @property {string} url public URL (edge front)
 * @property {number} port edge front port
 * @property {string} directUrl the worker's internal direct socket (no CF-Connecting-IP!)
 */

/**
 * Start one Miniflare with one worker per entry of `ports`, plus an edge front per node.
 * Edge fronts bind first, so a taken port fails fast before workerd starts.
 * @param {object} opts
 * @param {string} opts.bundlePath bundled worker (see buildWorkerBundle)
 * @param {Record<string, string>} opts.vars worker vars (NODE_ID is set per node)
 * @param {number[]} opts.ports public port per node (0 = any free port)
 * @param {string} opts.persistDir where R2, Cache API and Durable Object state live
 * @param {string} [opts.host] edge front listen address
 * @param {import("./worker-build.mjs").WorkerConfig} [opts.workerConfig] defaults to the repo's wrangler.toml
 * @param {(line: string) => void} [opts.onWorkerLog] worker console output (default: stdout)
 * @param {{ bundlePath: string, port: number, vars: Record<string, string>, workerConfig: import("./worker-build.mjs").WorkerConfig, cronEveryMs?: number }} [opts.base]
 *   the base worker (wrangler.base.toml) in the same process, behind its own edge front;
 *   its Cron Trigger is fired every `cronEveryMs` (local dev never fires crons by itself)
 * @returns {Promise<{ nodes: NodeHandle[], base?: NodeHandle, mf: Miniflare, close(): Promise<void> }>}
 */
export async function startNodeStack({ bundlePath, vars, ports, persistDir, host = "127.0.0.1", workerConfig, onWorkerLog, base }) {
  const config = workerConfig ?? (await readWorkerConfig(REPO_ROOT));
  const names = [...ports.map((_, i) => nodeName(i)), ...(base ? [BASE_WORKER] : [])];
  const publicPorts = [...ports, ...(base ? [base.port] : [])];
  /** @type {Map<string, { host: string, port: number }>} */
  const targets = new Map();
  const fronts = [];
  try {
    for (const [i, port] of publicPorts.entries()) {
      fronts.push(await startEdgeFront({ port, host, target: () => targets.get(names[i]) }));
    }
  } catch (err) {
    await Promise.all(fronts.map((f) => f.close()));
    throw err;
  }

  const owner = names[0];
  const baseObjects = objectsOfBase(config, base?.workerConfig);
  const workers = names.slice(0, ports.length).map((name) => ({
    name,
    modules: true,
    scriptPath: bundlePath,
    compatibilityDate: config.compatibilityDate,
    compatibilityFlags: config.compatibilityFlags,
    // Each node its own Cache API cache, as each colo has its own: inside one Miniflare,
    // caches.default is one store for every worker (CACHE_NAME in the README).
    bindings: { ...vars, NODE_ID: name, CACHE_NAME: vars.CACHE_NAME ?? name },
    r2Buckets: config.r2Buckets,
    durableObjects: {
      ...Object.fromEntries(config.durableObjects.map((d) => [
        d.binding,
        name === owner
          ? { className: d.className, useSQLite: d.sqlite }
          : { className: d.className, scriptName: owner, useSQLite: d.sqlite },
      ])),
      ...baseObjects,
    },
    // Port 0: workerd picks a free loopback port; we ask for it with unsafeGetDirectURL.
    unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
  }));
  if (base) {
    const c = base.workerConfig;
    workers.push({
      name: BASE_WORKER,
      modules: true,
      scriptPath: base.bundlePath,
      compatibilityDate: c.compatibilityDate,
      compatibilityFlags: c.compatibilityFlags,
      bindings: base.vars,
      // Same bucket name as the nodes: the base reads the sizes and digests they stored.
      r2Buckets: c.r2Buckets,
      durableObjects: Object.fromEntries(c.durableObjects.map((d) => [d.binding, { className: d.className, useSQLite: d.sqlite }])),
      unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
    });
  }

  let mf;
  try {
    mf = new Miniflare(convertV4MiniflareOptions({
      host: "127.0.0.1",
      port: 0, // Miniflare's own entry socket is unused; keep it off well-known ports
      resourcePersistencePath: path.resolve(persistDir),
      ...(onWorkerLog ? { handleStructuredLogs: (l) => onWorkerLog(`[${l.level}] ${l.message}`) } : {}),
      workers,
    }));
    await mf.ready;
    for (const name of names) {
      const u = await mf.unsafeGetDirectURL(name);
      targets.set(name, { host: u.hostname, port: Number(u.port) });
    }
  } catch (err) {
    await Promise.all(fronts.map((f) => f.close()));
    await mf?.dispose().catch(() => {});
    throw err;
  }

  const handles = names.map((name, i) => ({
    name,
    url: fronts[i].url,
    port: fronts[i].port,
    directUrl: `http://${targets.get(name)?.host}:${targets.get(name)?.port}`,
  }));
  let cron;
  if (base && base.workerConfig.crons.length > 0) {
    const every = base.cronEveryMs ?? 10_000;
    const fire = async () => {
      const worker = await mf.getWorker(BASE_WORKER);
      await worker.scheduled({ cron: base.workerConfig.crons[0] }).catch((e) => console.error(`base cron: ${e.message}`));
    };
    void fire();
    cron = setInterval(fire, every);
  }
  let closing;
  return {
    nodes: handles.slice(0, ports.length),
    ...(base ? { base: handles[ports.length] } : {}),
    mf,
    close() {
      closing ??= (async () => {
        clearInterval(cron);
        await Promise.all(fronts.map((f) => f.close()));
        await mf.dispose();
      })();
      return closing;
    },
  };
}
