// Real HTTP servers standing in for offload nodes and mirrors in the base's tests: the
// base only probes them (health) and names them in redirects. A control port sets each
// one's health answer or really stops and restarts its listener.
import http from "node:http";
import { switchableServer } from "./switchable-server.mjs";

/**
 * @param {{ ports: number[], controlPort: number }} opts
 * @returns {Promise<{ close(): Promise<void> }>}
 */
export async function startProbeTargets({ ports, controlPort }) {
  const targets = ports.map((port) => ({ port, status: 200, load: 0, probes: 0, server: /** @type {any} */ (null) }));
  for (const t of targets) {
    t.server = switchableServer(t.port, (req, res) => {
      if (req.url?.startsWith("/.well-known/offload/health") || req.url === "/") t.probes += 1;
      res.writeHead(t.status, { "content-type": "application/json" });
      res.end(req.method === "HEAD" ? undefined : JSON.stringify({ node: `target-${t.port}`, load: t.load }));
    });
    await t.server.start();
  }
  const control = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://control");
    const t = targets.find((x) => String(x.port) === url.searchParams.get("port"));
    if (!t) return void res.writeHead(404).end("unknown port\n");
    if (url.pathname === "/set") {
      if (url.searchParams.has("status")) t.status = Number(url.searchParams.get("status"));
      if (url.searchParams.has("load")) t.load = Number(url.searchParams.get("load"));
    } else if (url.pathname === "/down") await t.server.stop();
    else if (url.pathname === "/up") await t.server.start();
    else return void res.writeHead(404).end("unknown action\n");
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ port: t.port, status: t.status, load: t.load, up: t.server.up, probes: t.probes }));
  });
  await new Promise((resolve) => control.listen(controlPort, "127.0.0.1", () => resolve(undefined)));
  return {
    async close() {
      for (const t of targets) await t.server.stop();
      await new Promise((resolve) => control.close(() => resolve(undefined)));
    },
  };
}
