// Runs in Node, outside workerd: starts the real origin HTTP server the tests use.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startStaticOrigin } from "../../scripts/origin/static-origin.mjs";

/** @returns {Promise<() => Promise<void>>} teardown */
export default async function setup() {
  const root = await mkdtemp(join(tmpdir(), "offload-origin-"));
  const origin = await startStaticOrigin({
    root,
    port: Number(process.env.TEST_ORIGIN_PORT),
    controlPort: Number(process.env.TEST_CONTROL_PORT),
  });
  return async () => {
    await origin.close();
    await rm(root, { recursive: true, force: true });
  };
}
