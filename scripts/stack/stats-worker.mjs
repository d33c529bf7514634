/**
 * The node's STATS binding names a Durable Object of another worker (wrangler.toml:
 * script_name = "offload-base"). In the node's test project and in the node benchmark
 * that worker must exist, or workerd refuses to start ("refers to a service
 * core:user:offload-base, but no such service is defined"). This builds it as an
 * auxiliary worker holding the real OffloadStats class, defined as wrangler.base.toml
 * defines it, so node tests check what a node records end to end and the bench measures
 * a node that records as a deployed one does.
 *
 * Auxiliary workers cannot have TypeScript entrypoints (the plugin only transforms the
 * worker under test), hence the esbuild step: the same esbuild wrangler bundles with.
 */
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { readWorkerConfig } from "./worker-build.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const require = createRequire(import.meta.url);

/** Miniflare options of the worker named `scriptName` that defines `className`. */
export async function statsBaseWorker({ scriptName = "offload-base", className = "OffloadStats", config = "wrangler.base.toml" } = {}) {
  const base = await readWorkerConfig(ROOT, config);
  const binding = base.durableObjects.find((d) => d.className === className);
  if (!binding) throw new Error(`${config} defines no Durable Object ${className}`);
  const esbuild = await import(require.resolve("esbuild", { paths: [require.resolve("wrangler/package.json", { paths: [ROOT] })] }));
  const out = await esbuild.build({
    stdin: { contents: `export { ${className} } from "./src/stats/offload-stats.ts";`, resolveDir: ROOT, loader: "ts" },
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2023",
    external: ["cloudflare:*", "node:*"],
    write: false,
    logLevel: "silent",
  });
  return {
    name: scriptName,
    modules: [{ type: "ESModule", path: "offload-stats.mjs", contents: out.outputFiles[0].text }],
    compatibilityDate: base.compatibilityDate,
    compatibilityFlags: base.compatibilityFlags,
    durableObjects: { [binding.binding]: { className, useSQLite: binding.sqlite } },
  };
}
