/**
 * The proxy bench's processes: the backend (proxy-backend.mjs, its own Node process) and
 * ONE workerd (Miniflare API, direct sockets) running
 *
 *   base        the real base bundle (wrangler.base.toml) with PROXY_ROUTES; owns the DOs
 *   bench-pass  bare pass-through: fetch(BACKEND + path + query), returned as is
 *
 * No Cron Trigger is configured: no health probe ever runs.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startChild } from "./procs.mjs";
import { bootWorkerd } from "./workerd-boot.mjs";

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
  return bootWorkerd({ workers, persistDir, onBoot });
}
