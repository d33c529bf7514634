/**
 * The proxy bench's processes: the backend (proxy-backend.mjs, its own Node process) and
 * ONE workerd (Miniflare API, direct sockets) running
 *
 *   base        the real base bundle (wrangler.base.toml) with PROXY_ROUTES; owns the DOs
 *   bench-pass  bare pass-through: fetch(BACKEND + path + query), returned as is
 *   bench-pass-fwd  the same, doing only what any forwarding proxy must: the client's
 *               header fields plus the route's four forwarding fields, and a timer on
 *               the backend's silence (the ceiling of figure 1: no logic, no checks)
 *
 * No Cron Trigger is configured: no health probe ever runs.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startChild } from "./procs.mjs";
import { bootWorkerd } from "./workerd-boot.mjs";

export const BASE = "base";
export const PASS = "bench-pass";
export const PASS_FWD = "bench-pass-fwd";

const BACKEND_CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), "proxy-backend.mjs");

const passThrough = `
export default {
  fetch(req, env) {
    const url = new URL(req.url);
    return fetch(env.BACKEND + url.pathname + url.search);
  },
};`;

// The same four fields the route sends (X-Forwarded-For, -Proto, -Host, Forwarded), from
// the client's address and PUBLIC_HOST; the client's other fields go on as they came.
const forwardingPassThrough = `
export default {
  async fetch(req, env) {
    const url = new URL(req.url);
    const ip = req.headers.get("cf-connecting-ip");
    const headers = new Headers(req.headers);
    headers.delete("cf-connecting-ip");
    headers.set("x-forwarded-for", ip);
    headers.set("x-forwarded-proto", "http");
    headers.set("x-forwarded-host", env.PUBLIC_HOST);
    headers.set("forwarded", "for=" + ip + ";proto=http;host=" + env.PUBLIC_HOST);
    const silence = new AbortController();
    const timer = setTimeout(() => silence.abort(), 30000);
    try {
      return await fetch(env.BACKEND + url.pathname + url.search, { method: req.method, headers, redirect: "manual", signal: silence.signal });
    } finally {
      clearTimeout(timer);
    }
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
 * @param {string} o.passBackend the bare workers' backend URL
 * @param {string} o.publicHost the host the forwarding bare worker names (PUBLIC_URL's)
 * @param {() => void} [o.onBoot]
 */
export async function startProxyStack({ bundlePath, workerConfig, persistDir, baseVars, passBackend, publicHost, onBoot }) {
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
    { ...common, name: PASS_FWD, script: forwardingPassThrough, bindings: { BACKEND: passBackend, PUBLIC_HOST: publicHost } },
  ];
  return bootWorkerd({ workers, persistDir, onBoot });
}
