/**
 * The proxy bench's processes: the backend (proxy-backend.mjs, its own Node process) and
 * ONE workerd (Miniflare API, direct sockets) running
 *
 *   base        the real base bundle (wrangler.base.toml) with PROXY_ROUTES; owns the DOs
 *   bench-pass  bare pass-through: fetch(BACKEND + path + query), returned as is
 *
 * No Cron Trigger is configured: no health probe ever runs.
 */
import { readFile, readdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import { startChild } from "./procs.mjs";

export const BASE = "base";
export const PASS = "bench-pass";

const BACKEND_CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), "proxy-backend.mjs");

const passThrough = `
export default {
  fetch(req, env) {
    const url = new URL(req.url);
    return fetch(env.BACKEND + url.pathname + url.search);
  },
};`;

/** @returns {Promise<{ ports: number[], pid: number, urls: string[] }>} */
export async function startBackend() {
  const child = startChild(process.execPath, [BACKEND_CLI]);
  const ports = await new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    child.stdout.on("data", (d) => {
      out += d;
      const nl = out.indexOf("\n");
      if (nl >= 0) resolve(JSON.parse(out.slice(0, nl)).ports);
    });
    child.on("exit", (code) => reject(new Error(`backend exited ${code}: ${err}`)));
    setTimeout(() => reject(new Error("backend did not start within 15 s")), 15_000).unref();
  });
  return { ports, pid: child.pid ?? 0, urls: ports.map((p) => `http://127.0.0.1:${p}`) };
}

/**
 * @param {object} o
 * @param {string} o.bundlePath base bundle
 * @param {import("../stack/worker-build.mjs").WorkerConfig} o.workerConfig wrangler.base.toml
 * @param {string} o.persistDir
 * @param {Record<string, string>} o.baseVars
 * @param {string} o.passBackend the bare worker's backend URL
 * @param {() => void} [o.onBoot]
 */
export async function startProxyStack({ bundlePath, workerConfig, persistDir, baseVars, passBackend, onBoot }) {
  const direct = [{ host: "127.0.0.1", port: 0 }];
  const common = { modules: true, compatibilityDate: workerConfig.compatibilityDate, compatibilityFlags: workerConfig.compatibilityFlags, unsafeDirectSockets: direct };
  const workers = [
    {
      ...common,
      name: BASE,
      scriptPath: bundlePath,
      modulesRoot: path.dirname(bundlePath),
      bindings: baseVars,
      r2Buckets: workerConfig.r2Buckets,
      durableObjects: Object.fromEntries(workerConfig.durableObjects.map((d) => [d.binding, { className: d.className, useSQLite: d.sqlite }])),
    },
    { ...common, name: PASS, script: passThrough, bindings: { BACKEND: passBackend } },
  ];
  const options = convertV4MiniflareOptions({
    host: "127.0.0.1",
    port: 0,
    resourcePersistencePath: path.resolve(persistDir),
    handleStructuredLogs: (l) => { if (l.level === "error" || l.level === "warn") process.stderr.write(`[workerd ${l.level}] ${l.message}\n`); },
    workers,
  });
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
  let closed = false;
  return {
    url: (name) => urls.get(name),
    pid: () => pid,
    async close() {
      if (closed) return;
      closed = true;
      await mf.dispose().catch(() => {});
    },
  };
}

async function workerdChildren() {
  const out = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === process.pid && comm.startsWith("workerd")) out.push(Number(entry));
    } catch { /* gone */ }
  }
  return out;
}
