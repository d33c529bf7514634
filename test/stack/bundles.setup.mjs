// Global setup of the stack project: the node and base bundles, built once per run as
// `wrangler deploy --dry-run` builds them, for every local stack the tests start (dev-stack's
// NODE_BUNDLE / BASE_BUNDLE). Each start would otherwise bundle both again (~7 s a start).
// local-stack.test.mjs still starts one stack that builds its own, as a user's does.
import path from "node:path";
import { buildWorkerBundle } from "../../scripts/stack/worker-build.mjs";

const ROOT = path.resolve(import.meta.dirname, "../..");

/** @param {import("vitest/node").TestProject} project */
export default async function setup(project) {
  const [node, base] = await Promise.all([
    buildWorkerBundle({ root: ROOT, outdir: ".wrangler/test-stack-build" }),
    buildWorkerBundle({ root: ROOT, outdir: ".wrangler/test-stack-build-base", config: "wrangler.base.toml" }),
  ]);
  project.provide("stackBundles", { NODE_BUNDLE: node, BASE_BUNDLE: base });
}
