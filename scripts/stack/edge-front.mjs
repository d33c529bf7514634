/**
 * A tiny stand-in for Cloudflare's edge in front of a locally run Worker.
 *
 * Miniflare's direct sockets hand the Worker the raw request, so the Worker never learns
 * the client address, yet the node's per-client download guard keys on it. This front
 * accepts the client's TCP connection, stamps CF-Connecting-IP with the real peer
 * address (overwriting anything the client sent, as Cloudflare does), drops client-sent
 * cf-* / mf-* headers (Cloudflare and Miniflare internals a client must not forge) and
 * forwards to the Worker's direct socket. Bodies stream both ways through pipeline(), so
 * back-pressure holds and nothing is buffered; an abort on either side tears down the other.
 */
import http from "node:http";
import { pipeline } from "node:stream";

/** Hop-by-hop headers (RFC 9110 §7.6.1) belong to one connection and are never forwarded. */
const HOP_BY_HOP = new Set([
  "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization",
  "te", "trailer", "transfer-encoding", "upgrade",
  // Not hop-by-hop, but Node already answered "100 Continue" to the client itself.
  "expect",
]);

/** "::ffff:127.0.0.2" -> "127.0.0.2": dual-stack sockets report IPv4 peers v4-mapped. */
export function clientAddress(socket) {
  const a = socket.remoteAddress ?? "";
  return a.startsWith("::ffff:") && a.includes(".") ? a.slice(7) : a;
}

/**
 * Headers for the upstream request, from the client's raw header list.
 * @param {string[]} raw alternating names and values (IncomingMessage.rawHeaders)
 * @param {string} ip client address to stamp
 * @returns {string[]} flat name/value list, duplicates preserved
 */
export function forwardHeaders(raw, ip) {
  const connectionTokens = new Set();
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].toLowerCase() === "connection") {
      for (const t of raw[i + 1].split(",")) connectionTokens.add(t.trim().toLowerCase());
    }
  }
  const out = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    if (HOP_BY_HOP.has(name) || connectionTokens.has(name)) continue;
    if (name.startsWith("cf-") || name.startsWith("mf-")) continue;
    out.push(raw[i], raw[i + 1]);
  }
  out.push("CF-Connecting-IP", ip);
  return out;
}

/** Response headers minus hop-by-hop ones; Node re-frames the body for the client connection. */
function responseHeaders(raw) {
  const out = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (!HOP_BY_HOP.has(raw[i].toLowerCase())) out.push(raw[i], raw[i + 1]);
  }
  return out;
}

/**
 * Start one edge front.
 * @param {{ port: number, host?: string, target: () => { host: string, port: number } | undefined }} opts
 *   `target` is read per request, so the front can listen (and claim its port) before
 *   the Worker it forwards to is up; until then it answers 503.
 * @returns {Promise<{ url: string, port: number, server: http.Server, close(): Promise<void> }>}
 *   Rejects with the listen error (err.code "EADDRINUSE", err.port) when the port is taken.
 */
export async function startEdgeFront({ port, host = "127.0.0.1", target }) {
  // Keep-alive to the Worker: a new TCP connection per request would dominate small responses.
  const agent = new http.Agent({ keepAlive: true });
  const server = http.createServer((req, res) => forward(req, res, target(), agent));
  await new Promise((resolve, reject) => {
    server.once("error", (err) => reject(Object.assign(err, { port })));
    server.listen(port, host, () => resolve(undefined));
  });
  const actual = /** @type {import("node:net").AddressInfo} */ (server.address()).port;
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${actual}`,
    port: actual,
    server,
    async close() {
      const closed = new Promise((resolve) => server.close(() => resolve(undefined)));
      server.closeAllConnections();
      agent.destroy();
      await closed;
    },
  };
}

/**
 * @param {http.IncomingMessage} req
 * @param {http.ServerResponse} res
 * @param {{ host: string, port: number } | undefined} to
 * @param {http.Agent} agent
 */
function forward(req, res, to, agent) {
  if (!to) return fail(res, 503, "worker not ready yet\n");
  const upstream = http.request({
    host: to.host,
    port: to.port,
    method: req.method,
    path: req.url,
    headers: forwardHeaders(req.rawHeaders, clientAddress(req.socket)),
    agent,
  });
  upstream.on("response", (up) => {
    res.writeHead(up.statusCode ?? 502, up.statusMessage, responseHeaders(up.rawHeaders));
    // pipeline destroys `up` if the client goes away mid-body, and destroys `res` if the
    // Worker's body errors, so the client sees a truncated transfer, not a clean end.
    pipeline(up, res, () => {});
  });
  upstream.on("error", (err) => {
    if (!res.headersSent) fail(res, 502, `edge front: worker unreachable (${err.message})\n`);
    else res.destroy();
  });
  // Client abort before the response completes: drop the upstream request too, so the
  // Worker sees the cancellation (and frees its download slot).
  res.on("close", () => {
    if (!res.writableFinished) upstream.destroy();
  });
  // Plain pipe, not pipeline: pipeline would destroy `req` (and with it the client socket)
  // when the upstream fails, losing the 502 we still want to send.
  req.pipe(upstream);
}

function fail(res, status, text) {
  res.writeHead(status, { "Content-Type": "text/plain; charset=utf-8", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}
