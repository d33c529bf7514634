// An HTTP listener a test can really stop (listener closed, open connections cut, so a
// connect is refused) and start again on the same port: how tests take a node, mirror
// or backend down for real.
import http from "node:http";

/**
 * @param {number} port
 * @param {http.RequestListener} handler
 */
export function switchableServer(port, handler) {
  /** @type {http.Server | null} */
  let server = null;
  const sockets = new Set();
  return {
    get up() {
      return server !== null;
    },
    /** @returns {Promise<void>} */
    start() {
      if (server) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const s = http.createServer(handler);
        s.on("connection", (socket) => {
          sockets.add(socket);
          socket.on("close", () => sockets.delete(socket));
        });
        s.once("error", reject);
        s.listen(port, "127.0.0.1", () => {
          server = s;
          resolve();
        });
      });
    },
    /** @returns {Promise<void>} */
    stop() {
      const s = server;
      if (!s) return Promise.resolve();
      server = null;
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => s.close(() => resolve()));
    },
  };
}
