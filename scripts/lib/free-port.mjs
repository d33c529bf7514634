import { createServer } from "node:net";

/**
 * Ports are picked below every common ephemeral range (Linux 32768–60999, IANA/macOS and
 * Windows 49152–65535). A port the OS hands out for `listen(0)` comes from the ephemeral
 * range, where any process's next outgoing connection may take it between our check and
 * the server's own bind (seen in CI: EADDRINUSE on a test origin). Below that range only
 * another listener can take it.
 */
const LOW = 10_000;
const HIGH = 32_767;

/** Ports this process handed out already: parallel callers never get the same one. */
const handedOut = new Set();

/**
 * A loopback TCP port, free a moment ago and outside the ephemeral range, for tests and
 * benches that start their own servers right after.
 * @returns {Promise<number>}
 */
export async function freePort() {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW + 1));
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    if (await canListen(port)) return port;
  }
  throw new Error(`no free loopback port between ${LOW} and ${HIGH} after 200 tries`);
}

function canListen(port) {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}
