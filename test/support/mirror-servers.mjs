// Real mirrors for the base's tests: instances of the repo's static origin, each on its own
// port with its own root, filled through its control API (same size, seed and mtime as on
// the origin = a current copy). A control call really stops and restarts one (POST /down).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startStaticOrigin } from "../../scripts/origin/static-origin.mjs";

/**
 * @param {{ ports: number[], controlPorts: number[] }} opts
 * @returns {Promise<{ close(): Promise<void> }>}
 */
export async function startMirrorServers({ ports, controlPorts }) {
  const started = [];
  for (const [i, port] of ports.entries()) {
    const root = await mkdtemp(join(tmpdir(), `offload-mirror-${i}-`));
    started.push({ root, server: await startStaticOrigin({ root, port, controlPort: controlPorts[i] }) });
  }
  return {
    async close() {
      for (const { root, server } of started) {
        await server.close();
        await rm(root, { recursive: true, force: true });
      }
    },
  };
}
