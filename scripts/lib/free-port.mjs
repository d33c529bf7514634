import { createServer } from "node:net";

/**
 * A loopback TCP port that was free a moment ago (the OS picks it). Good enough for
 * tests and benches that start their own servers right after.
 * @returns {Promise<number>}
 */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = /** @type {import("node:net").AddressInfo} */ (srv.address());
      srv.close(() => resolve(port));
    });
  });
}
