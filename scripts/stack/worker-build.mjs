/**
 * Build the offload-node Worker bundle exactly as a deploy would (wrangler's own esbuild
 * setup, wrangler.toml's `main`), and read the bits of wrangler.toml the local stack
 * needs, so the stack never drifts from the deploy configuration.
 */
import { spawn } from "node:child_process";
import { readdir, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(import.meta.url);

/**
 * `wrangler deploy --dry-run --outdir <outdir>` in `root`; returns the bundled entry .js.
 * Runs wrangler's JS entry with this Node (same thing `npx wrangler` resolves to, minus
 * npx's lookup) and only shows wrangler's output when the build fails.
 * @param {{ root: string, outdir: string, signal?: AbortSignal, config?: string }} opts
 *   `config` is the wrangler config file (wrangler.toml: the node; wrangler.base.toml: the base).
 *   `signal` kills wrangler (e.g. Ctrl-C during the build), so no child outlives us.
 * @returns {Promise<string>} absolute path of the bundle
 */
export async function buildWorkerBundle({ root, outdir, signal, config = "wrangler.toml" }) {
  const absOut = path.resolve(root, outdir);
  await rm(absOut, { recursive: true, force: true }); // never pick up a stale bundle
  // bin/ is not in wrangler's "exports", so locate it from the exported package.json.
  const wranglerPkg = require.resolve("wrangler/package.json", { paths: [root] });
  const wranglerBin = path.join(path.dirname(wranglerPkg), require(wranglerPkg).bin.wrangler);
  const output = [];
  const code = await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [wranglerBin, "deploy", "--dry-run", "-c", config, "--outdir", absOut], {
      cwd: root,
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
      signal,
    });
    child.stdout.on("data", (d) => output.push(d));
    child.stderr.on("data", (d) => output.push(d));
    child.on("error", reject);
    child.on("close", resolve);
  });
  if (code !== 0) {
    throw new Error(`wrangler deploy --dry-run failed (exit ${code}):\n${Buffer.concat(output).toString()}`);
  }
  const js = (await readdir(absOut)).filter((f) => f.endsWith(".js"));
  if (js.length !== 1) throw new Error(`expected one .js bundle in ${absOut}, found: ${js.join(", ") || "none"}`);
  return path.join(absOut, js[0]);
}

/**
 * @typedef {object} WorkerConfig
 * @property {string} name the worker's name (what other workers' script_name refers to)
 * @property {string} compatibilityDate
 * @property {string[]} compatibilityFlags
 * @property {Record<string, string>} vars [vars] defaults
 * @property {{ binding: string, className: string, sqlite: boolean }[]} durableObjects
 *   bindings to classes this worker defines (and exports)
 * @property {{ binding: string, className: string, scriptName: string }[]} externalDurableObjects
 *   bindings with a `script_name`: the class lives in that other worker. Kept apart so a
 *   caller that defines every listed class in this worker never defines a foreign one.
 * @property {Record<string, string>} r2Buckets binding -> bucket name
 * @property {string[]} crons Cron Trigger schedules
 */

/**
 * Read wrangler.toml through wrangler's own parser (no TOML dependency of ours).
 * @param {string} root
 * @param {string} [file] wrangler config file, relative to root
 * @returns {Promise<WorkerConfig>}
 */
export async function readWorkerConfig(root, file = "wrangler.toml") {
  const { unstable_readConfig } = await import(require.resolve("wrangler", { paths: [root] }));
  const c = unstable_readConfig({ config: path.join(root, file) });
  const sqlite = new Set((c.migrations ?? []).flatMap((m) => m.new_sqlite_classes ?? []));
  return {
    name: c.name,
    compatibilityDate: c.compatibility_date,
    compatibilityFlags: c.compatibility_flags ?? [],
    crons: c.triggers?.crons ?? [],
    vars: Object.fromEntries(Object.entries(c.vars ?? {}).map(([k, v]) => [k, String(v)])),
    durableObjects: (c.durable_objects?.bindings ?? []).filter((b) => !isExternal(b, c.name)).map((b) => ({
      binding: b.name, className: b.class_name, sqlite: sqlite.has(b.class_name),
    })),
    externalDurableObjects: (c.durable_objects?.bindings ?? []).filter((b) => isExternal(b, c.name)).map((b) => ({
      binding: b.name, className: b.class_name, scriptName: b.script_name,
    })),
    r2Buckets: Object.fromEntries((c.r2_buckets ?? []).map((b) => [b.binding, b.bucket_name])),
  };
}

/** A script_name naming the worker itself is the same as none (wrangler treats it so). */
function isExternal(binding, workerName) {
  return Boolean(binding.script_name) && binding.script_name !== workerName;
}
