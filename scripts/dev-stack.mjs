/**
 * Local stack: demo origin + two offload nodes (one Miniflare process) + edge fronts, the
 * base, and a demo farm (two tiny member servers) for the farm, proxy and admin features.
 * Started by `bash scripts/start` (which provides Node >= 22 and dependencies).
 *
 * Environment overrides:
 *   ORIGIN_URL   use this origin instead of starting the demo origin
 *   ORIGIN_PORT  demo origin port (8080); its control API listens on ORIGIN_CONTROL_PORT (ORIGIN_PORT + 1)
 *   NODE_PORTS   comma-separated public ports, one node each ("8788,8789")
 *   BASE_PORT    the base worker (redirector) port (8787)
 *   CRON_EVERY_SECONDS  how often the base's Cron Trigger (health checks) fires locally (10)
 *   FARM_PORTS   comma-separated ports of the demo farm's members web1, web2 ("8090,8091");
 *                not started when FARMS is set
 *   HOST         address the nodes listen on (127.0.0.1)
 *   STATE_DIR    where R2, Durable Object and cache state persist (.dev-state)
 *   DEMO_DIR     folder the demo origin serves (demo/), generated on first run
 *   NODE_BUNDLE, BASE_BUNDLE  bundles already built from this tree by `wrangler deploy
 *                --dry-run` (the stack tests build them once per run): used instead of
 *                building them again at every start
 *   and every node variable (see NODE_VARS, defaults from wrangler.toml [vars]) and base
 *   variable (BASE_VARS, defaults from wrangler.base.toml [vars]), with local defaults:
 *     OFFLOAD_NODES   the local nodes
 *     FARMS           farm_one: the demo members, round-robin, health-checked, the origin as fallback
 *     PROXY_ROUTES    /app/ -> http://farm_one (only with the demo FARMS)
 *     ATH_TOKEN, ADMIN_TOKEN  random per start (printed; a value set in the environment is not echoed)
 *     STATS_FLUSH_SECONDS     2 (base and nodes), so the admin page's totals move quickly
 *     MIRRORS_ALLOW_PRIVATE   true: mirrors on 127.0.0.1 (the demo origin can act as one)
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseAdminToken } from "../src/config/admin-config.ts";
import { BASE_VAR_NAMES, parseBaseConfig } from "../src/config/base-config.ts";
import { FARMS_VAR_NAMES, parseFarmsConfig } from "../src/config/farms-config.ts";
import { NODE_VAR_NAMES, parseNodeConfig } from "../src/config/node-config.ts";
import { parseProxyRoutes } from "../src/config/proxy-config.ts";
import { statsFlushSeconds } from "../src/config/stats-flush.ts";
import { startStaticOrigin } from "./origin/static-origin.mjs";
import { DEMO_PROXY_ROUTES, demoFarmsJson, startDemoFarm } from "./stack/demo-farm.mjs";
import { ensureDemoFiles } from "./stack/demo-files.mjs";
import { startNodeStack, nodeName } from "./stack/miniflare-stack.mjs";
import { buildWorkerBundle, readWorkerConfig } from "./stack/worker-build.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Worker variables passed through from the environment (NODE_ID is set per node). */
export const NODE_VARS = NODE_VAR_NAMES.filter((name) => name !== "NODE_ID");

/** Base worker variables passed through from the environment: offload, farms, admin, stats. */
export const BASE_VARS = [...BASE_VAR_NAMES, ...FARMS_VAR_NAMES, "ADMIN_TOKEN", "STATS_FLUSH_SECONDS", "CF_API_TOKEN"];

/** Local default for STATS_FLUSH_SECONDS: totals on the admin page move within seconds. */
const LOCAL_STATS_FLUSH_SECONDS = "2";

/** A fresh secret per start (24 characters, above the 16 that ATH_TOKEN and ADMIN_TOKEN need). */
const randomToken = () => randomBytes(18).toString("base64url");

/** Errors we expect (bad config, busy port): message only, exit 1, no stack trace. */
class StartError extends Error {}

function portFrom(name, fallback) {
  const v = process.env[name]?.trim() || String(fallback);
  if (!/^\d+$/.test(v) || Number(v) > 65535) throw new StartError(`invalid ${name}: "${v}" is not a port number`);
  return Number(v);
}

/** A bundle named by `name` (NODE_BUNDLE, BASE_BUNDLE), or undefined to build one; a named file must exist. */
function prebuilt(name) {
  const file = process.env[name]?.trim();
  if (!file) return undefined;
  if (!existsSync(file)) throw new StartError(`invalid ${name}: no bundle at ${file}`);
  return path.resolve(file);
}

/** Fail before starting anything if a port is taken, naming the variable that moves it. */
async function assertPortFree(host, port, envName) {
  await new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", (err) => reject(new StartError(
      err.code === "EADDRINUSE"
        ? `port ${port} on ${host} is already in use: stop whatever uses it or set ${envName} to another port`
        : `cannot listen on ${host}:${port} (${err.code ?? err.message}); set ${envName} to change it`,
    )));
    probe.listen(port, host, () => probe.close(() => resolve(undefined)));
  });
}

/**
 * Ctrl-C / SIGTERM / SIGHUP: orderly stop, exit 0. A second signal while stopping forces exit.
 * @param {(code: number) => Promise<void>} stop
 */
function installSignalHandlers(stop) {
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.removeAllListeners(sig);
    let seen = false;
    process.on(sig, () => {
      if (seen) process.exit(1);
      seen = true;
      void stop(0);
    });
  }
}

async function main() {
  /** Everything started so far, stopped in reverse order on exit. */
  const stoppers = [];
  let stopping = false;
  const stop = async (code) => {
    if (stopping) return;
    stopping = true;
    for (const s of stoppers.reverse()) await s().catch((e) => console.error(`shutdown: ${e.message ?? e}`));
    process.exit(code);
  };
  installSignalHandlers(stop);

  const env = process.env;
  const host = env.HOST?.trim() || "127.0.0.1";
  const originPort = portFrom("ORIGIN_PORT", 8080);
  const controlPort = portFrom("ORIGIN_CONTROL_PORT", originPort + 1);
  const nodePortsText = env.NODE_PORTS?.trim() || "8788,8789";
  const nodePorts = nodePortsText.split(",").map((p) => p.trim());
  if (nodePorts.length < 1 || nodePorts.length > 26 || nodePorts.some((p) => !/^\d+$/.test(p) || Number(p) > 65535)) {
    throw new StartError(`invalid NODE_PORTS: "${nodePortsText}" (comma-separated port numbers, e.g. 8788,8789)`);
  }
  const useDemoOrigin = !env.ORIGIN_URL?.trim();
  const basePort = portFrom("BASE_PORT", 8787);
  const cronEverySeconds = portFrom("CRON_EVERY_SECONDS", 10);
  const useDemoFarm = !env.FARMS?.trim();
  const farmPortsText = env.FARM_PORTS?.trim() || "8090,8091";
  const farmPorts = farmPortsText.split(",").map((p) => p.trim());
  if (useDemoFarm && (farmPorts.length < 1 || farmPorts.length > 16 || farmPorts.some((p) => !/^\d+$/.test(p) || Number(p) < 1 || Number(p) > 65535))) {
    throw new StartError(`invalid FARM_PORTS: "${farmPortsText}" (comma-separated port numbers, e.g. 8090,8091)`);
  }
  const prebuiltNode = prebuilt("NODE_BUNDLE");
  const prebuiltBase = prebuilt("BASE_BUNDLE");

  // 1. Variables: environment over wrangler.toml [vars]; validated with the node's own parser.
  const workerConfig = await readWorkerConfig(ROOT);
  /** @type {Record<string, string>} */
  const vars = {};
  for (const name of new Set([...Object.keys(workerConfig.vars), ...NODE_VARS])) {
    const value = env[name] ?? workerConfig.vars[name];
    if (value !== undefined && name !== "NODE_ID") vars[name] = value;
  }
  if (useDemoOrigin) vars.ORIGIN_URL = `http://127.0.0.1:${originPort}`;
  vars.STATS_FLUSH_SECONDS ??= LOCAL_STATS_FLUSH_SECONDS;
  for (const [i] of nodePorts.entries()) {
    try {
      parseNodeConfig({ ...vars, NODE_ID: nodeName(i) });
    } catch (err) {
      throw new StartError(err instanceof Error ? err.message : String(err));
    }
  }

  // The base: its own [vars], the same origin, and the local nodes as offload targets.
  const baseConfig = await readWorkerConfig(ROOT, "wrangler.base.toml");
  /** @type {Record<string, string>} */
  const baseVars = {};
  for (const name of new Set([...Object.keys(baseConfig.vars), ...BASE_VARS])) {
    const value = env[name] ?? baseConfig.vars[name];
    if (value !== undefined) baseVars[name] = value;
  }
  baseVars.ORIGIN_URL = vars.ORIGIN_URL;
  if (!env.OFFLOAD_NODES?.trim()) {
    baseVars.OFFLOAD_NODES = JSON.stringify(nodePorts.map((p, i) => ({ id: nodeName(i), url: `http://${host}:${p}` })));
  }
  // The demo farm (started below) and what uses it: a farm proxy route, query mode, /_admin.
  const demoMembers = useDemoFarm ? farmPorts.map((p, i) => ({ id: `web${i + 1}`, url: `http://127.0.0.1:${p}` })) : [];
  if (useDemoFarm) {
    baseVars.FARMS = demoFarmsJson(demoMembers, vars.ORIGIN_URL);
    baseVars.PROXY_ROUTES ??= DEMO_PROXY_ROUTES;
  }
  // Only a secret made here is printed below: one the operator set is theirs already, and
  // output that may end up in a CI log or a shared terminal carries no secret it was given.
  const generated = { ath: baseVars.ATH_TOKEN === undefined, admin: baseVars.ADMIN_TOKEN === undefined };
  baseVars.ATH_TOKEN ??= randomToken();
  baseVars.ADMIN_TOKEN ??= randomToken();
  baseVars.STATS_FLUSH_SECONDS ??= LOCAL_STATS_FLUSH_SECONDS;
  // Local mirrors (one added in the admin, a test's nginx) live on 127.0.0.1.
  baseVars.MIRRORS_ALLOW_PRIVATE ??= "true";
  // The base's own parsers, as the worker runs them: a bad value fails here, naming the field.
  let farmsConfig;
  let adminToken;
  try {
    parseBaseConfig(baseVars);
    farmsConfig = parseFarmsConfig(baseVars);
    parseProxyRoutes(baseVars, "PROXY_ROUTES", farmsConfig.farms);
    adminToken = parseAdminToken(baseVars);
    statsFlushSeconds(baseVars);
  } catch (err) {
    throw new StartError(err instanceof Error ? err.message : String(err));
  }

  await assertPortFree(host, basePort, "BASE_PORT");
  for (const p of nodePorts) await assertPortFree(host, Number(p), "NODE_PORTS");
  if (useDemoOrigin) {
    await assertPortFree("127.0.0.1", originPort, "ORIGIN_PORT");
    await assertPortFree("127.0.0.1", controlPort, "ORIGIN_CONTROL_PORT");
  }
  if (useDemoFarm) for (const p of farmPorts) await assertPortFree("127.0.0.1", Number(p), "FARM_PORTS");

  try {
    // 2. Demo origin.
    if (useDemoOrigin) {
      const demoDir = path.resolve(ROOT, process.env.DEMO_DIR?.trim() || "demo");
      const { created } = await ensureDemoFiles(demoDir);
      if (created.length) console.log(`created demo files: ${created.join(", ")}`);
      const origin = await startStaticOrigin({ root: demoDir, host: "127.0.0.1", port: originPort, controlPort });
      stoppers.push(() => origin.close());
      console.log(`demo origin    ${origin.url}  (serving demo/, control API ${origin.controlUrl})`);
    } else {
      console.log(`origin         ${vars.ORIGIN_URL}  (from ORIGIN_URL)`);
    }
    if (useDemoFarm) {
      const farm = await startDemoFarm({ ports: farmPorts.map(Number) });
      stoppers.push(() => farm.close());
      for (const m of farm.members) console.log(`${`farm ${m.id}`.padEnd(14)} ${m.url}  (demo member of farm_one: GET /health, anything else names it)`);
    }

    // 3. Bundle the worker as a deploy would.
    const building = new AbortController();
    stoppers.push(async () => building.abort());
    const bundlePath = prebuiltNode ?? (await buildWorkerBundle({ root: ROOT, outdir: ".wrangler/dev-build", signal: building.signal }));
    const baseBundle = prebuiltBase ?? (await buildWorkerBundle({ root: ROOT, outdir: ".wrangler/dev-build-base", signal: building.signal, config: "wrangler.base.toml" }));

    // 4-5. Nodes in one Miniflare, each behind an edge front that supplies CF-Connecting-IP.
    const stack = await startNodeStack({
      bundlePath,
      vars,
      ports: nodePorts.map(Number),
      // STATE_DIR lets a test run a stack of its own without touching the developer state.
      persistDir: path.resolve(ROOT, process.env.STATE_DIR?.trim() || ".dev-state"),
      host,
      workerConfig,
      base: { bundlePath: baseBundle, port: basePort, vars: baseVars, workerConfig: baseConfig, cronEveryMs: cronEverySeconds * 1000 },
    });
    stoppers.push(() => stack.close());
    // Miniflare registers SIGINT/SIGTERM hooks that exit(130) at once, cutting our orderly
    // shutdown short; take the signals back. Its process 'exit' hook stays as the safety
    // net that kills workerd if we ever exit without dispose().
    installSignalHandlers(stop);
    for (const n of stack.nodes) console.log(`${n.name.padEnd(14)} ${n.url}`);
    if (stack.base) {
      const b = stack.base.url;
      console.log(`${"base".padEnd(14)} ${b}  (redirects big files to the nodes; health checks every ${cronEverySeconds} s)`);
      if (adminToken) console.log(`${"admin".padEnd(14)} ${b}/_admin  (token: ${generated.admin ? adminToken : "from ADMIN_TOKEN"})`);
      if (useDemoFarm) console.log(`try: curl -s ${b}/app/hello   (proxied to farm_one: round-robin over ${demoMembers.map((m) => m.id).join(", ")})`);
      const farmName = farmsConfig.farms.keys().next().value;
      if (farmName && farmsConfig.athToken) {
        console.log(`try: curl -s -H "Authorization: Bearer ${generated.ath ? farmsConfig.athToken : "$ATH_TOKEN"}" '${b}/ath/balance/?${farmName}'   (query mode: which member to use)`);
      }
    }
    console.log(`try: curl -L -o /dev/null ${stack.base?.url ?? stack.nodes[0].url}/iso/distro-64m.iso   (Ctrl-C stops everything)`);
  } catch (err) {
    if (stopping) return; // Ctrl-C mid-start: the abort error is expected, stop() is exiting
    if (err && err.code === "EADDRINUSE") {
      err = new StartError(`port ${err.port ?? "?"} is already in use (set NODE_PORTS / ORIGIN_PORT / FARM_PORTS to change ports)`);
    }
    console.error(err instanceof StartError ? err.message : err);
    await stop(1);
  }
}

main().catch((err) => {
  console.error(err instanceof StartError ? err.message : err);
  process.exit(1);
});
