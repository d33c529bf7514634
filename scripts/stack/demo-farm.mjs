/**
 * Demo farm members for the local stack: tiny plain HTTP servers (node:http) standing in
 * for a farm's web servers, so FARMS, query mode, farm proxy routes and the admin page's
 * member actions have something real to point at. Each answers GET/HEAD /health with
 * 200 "ok" and every other request with one short line naming itself, so a client can see
 * which member the base chose.
 */
import http from "node:http";

/**
 * One demo member.
 * @param {{ id: string, port: number, host?: string }} opts
 * @returns {Promise<{ id: string, url: string, port: number, close(): Promise<void> }>}
 *   Rejects with the listen error (err.code "EADDRINUSE", err.port) when the port is taken.
 */
export async function startDemoMember({ id, port, host = "127.0.0.1" }) {
  const server = http.createServer((req, res) => {
    // Read the whole request body before answering, as an app parsing a form does (and
    // discard it: a member answers, it does not store). The hostile-client suite relies
    // on this: a stalled upload must be the client's fault, not this member's (issue #11 H1).
    req.resume();
    req.on("end", () => {
      const path = (req.url ?? "/").split("?")[0];
      const text = path === "/health" ? "ok\n" : `${id} answered ${req.method} ${req.url}\n`;
      res.writeHead(200, {
        "content-type": "text/plain; charset=utf-8",
        "content-length": Buffer.byteLength(text),
        "cache-control": "no-store",
        "x-demo-member": id,
      });
      res.end(req.method === "HEAD" ? undefined : text);
    });
  });
  await new Promise((resolve, reject) => {
    server.once("error", (err) => reject(Object.assign(err, { port })));
    server.listen(port, host, () => resolve(undefined));
  });
  const actual = /** @type {import("node:net").AddressInfo} */ (server.address()).port;
  return {
    id,
    url: `http://${host}:${actual}`,
    port: actual,
    async close() {
      const closed = new Promise((resolve) => server.close(() => resolve(undefined)));
      server.closeAllConnections();
      await closed;
    },
  };
}

/**
 * The demo farm's members, web1, web2, ... one per port; on a failure the ones already
 * started are stopped before the error is thrown.
 * @param {{ ports: number[], host?: string }} opts
 */
export async function startDemoFarm({ ports, host = "127.0.0.1" }) {
  const members = [];
  try {
    for (const [i, port] of ports.entries()) members.push(await startDemoMember({ id: `web${i + 1}`, port, host }));
  } catch (err) {
    await Promise.all(members.map((m) => m.close()));
    throw err;
  }
  return {
    members,
    close: () => Promise.all(members.map((m) => m.close())).then(() => undefined),
  };
}

/**
 * FARMS for the demo: one round-robin farm over the members, checked every 10 s, with
 * the demo origin as the page clients get when every member is off.
 * @param {{ id: string, url: string }[]} members
 * @param {string} fallbackUrl
 */
export function demoFarmsJson(members, fallbackUrl) {
  return JSON.stringify({
    farm_one: {
      members: members.map((m) => ({ id: m.id, url: m.url })),
      algorithm: "round-robin",
      fallbackUrl,
      health: { path: "/health", intervalSeconds: 10, rise: 2, fall: 2, timeoutMs: 1000 },
    },
  });
}

/** The proxy route that sends /app/ to the demo farm. */
export const DEMO_PROXY_ROUTES = JSON.stringify([{ prefix: "/app/", backends: "http://farm_one" }]);
