// Runs in Node, outside workerd: starts the real origin HTTP server the tests use and,
// when installed, nginx serving the same directory (the reference of nginx-parity.test.ts).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startStaticOrigin } from "../../scripts/origin/static-origin.mjs";
import { findNginx, startNginx } from "../../scripts/nginx-oracle/start-nginx.mjs";
import { startProbeTargets } from "./probe-targets.mjs";
import { startMirrorServers } from "./mirror-servers.mjs";
import { startProxyBackends } from "./proxy-backends.mjs";

/** @returns {Promise<() => Promise<void>>} teardown */
export default async function setup() {
  const root = await mkdtemp(join(tmpdir(), "offload-origin-"));
  const origin = await startStaticOrigin({
    root,
    port: Number(process.env.TEST_ORIGIN_PORT),
    controlPort: Number(process.env.TEST_CONTROL_PORT),
  });
  // Same condition as TEST_NGINX_URL in vitest.config.ts. A start failure does not stop the
  // other tests; the parity test then reports nginx as unreachable.
  const nginx = findNginx()
    ? await startNginx({ root, port: Number(process.env.TEST_NGINX_PORT) }).catch((e) => void console.error(`nginx oracle: ${e.message}`))
    : undefined;
  // Stand-ins for nodes and mirrors in the base's tests (TEST_TARGET_PORTS in vitest.config.ts).
  const targets = await startProbeTargets({
    ports: String(process.env.TEST_TARGET_PORTS).split(",").map(Number),
    controlPort: Number(process.env.TEST_TARGET_CONTROL_PORT),
  });
  // Echo backends of the reverse-proxy tests (TEST_BACKEND_PORTS in vitest.config.ts).
  const backends = await startProxyBackends({
    ports: String(process.env.TEST_BACKEND_PORTS).split(",").map(Number),
    controlPort: Number(process.env.TEST_BACKEND_CONTROL_PORT),
  });
  // Real mirrors of the mirror inventory's tests (TEST_MIRROR_PORTS in vitest.config.ts).
  const mirrors = await startMirrorServers({
    ports: String(process.env.TEST_MIRROR_PORTS).split(",").map(Number),
    controlPorts: String(process.env.TEST_MIRROR_CONTROL_PORTS).split(",").map(Number),
  });
  return async () => {
    await mirrors.close();
    await backends.close();
    await targets.close();
    await nginx?.close();
    await origin.close();
    await rm(root, { recursive: true, force: true });
  };
}
