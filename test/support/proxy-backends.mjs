// Real HTTP backends for the reverse-proxy tests (test/base/proxy): each one answers every
// request with a JSON echo of what it received (method, path, query, headers, body length
// and SHA-256) and its own name, so a test can see what the proxy forwarded and to whom.
//
// Per request, headers ask for behaviour (they reach the backend through the proxy):
//   x-echo-delay: ms        wait before the response headers
//   x-echo-status: code     answer with this status
//   x-echo-location: url    send this Location
//   x-echo-header: json     extra response headers, e.g. {"set-cookie":["a=1; Domain=x"]}
//   x-echo-hop: 1           send hop-by-hop response fields (Connection-named ones too)
// The control port sets the same per backend, counts hits and really stops/starts a listener:
//   /set?port=P&delay=ms&status=code   /down?port=P   /up?port=P   /stats?port=P   /reset?port=P
import { createHash } from "node:crypto";
import http from "node:http";
import { switchableServer } from "./switchable-server.mjs";

/**
 * @param {{ ports: number[], controlPort: number }} opts
 * @returns {Promise<{ close(): Promise<void> }>}
 */
export async function startProxyBackends({ ports, controlPort }) {
  const backends = ports.map((port, i) => ({
    name: `b${i}`,
    port,
    delay: 0,
    status: 200,
    hits: 0,
    server: /** @type {ReturnType<typeof switchableServer>} */ (/** @type {any} */ (null)),
  }));

  const handle = (b, req, res) => {
    b.hits += 1;
    const hash = createHash("sha256");
    let length = 0;
    const small = [];
    req.on("data", (chunk) => {
      hash.update(chunk);
      length += chunk.length;
      if (length <= 65536) small.push(chunk);
    });
    req.on("end", () => {
      const delay = Number(req.headers["x-echo-delay"] ?? b.delay);
      const timer = setTimeout(() => respond(b, req, res, { length, sha256: hash.digest("hex"), text: length <= 65536 ? Buffer.concat(small).toString("utf8") : null }), delay);
      res.on("close", () => clearTimeout(timer));
    });
  };

  const respond = (b, req, res, body) => {
    const url = new URL(req.url ?? "/", "http://backend");
    const headers = { "content-type": "application/json", "x-backend": b.name };
    if (req.headers["x-echo-location"]) headers["location"] = String(req.headers["x-echo-location"]);
    if (req.headers["x-echo-header"]) Object.assign(headers, JSON.parse(String(req.headers["x-echo-header"])));
    if (req.headers["x-echo-hop"]) {
      headers["connection"] = "keep-alive, x-hop-named";
      headers["x-hop-named"] = "must not reach the client";
      headers["keep-alive"] = "timeout=5";
      headers["proxy-authenticate"] = "Basic realm=backend";
      headers["x-end-to-end"] = "kept";
    }
    const echo = JSON.stringify({
      backend: b.name,
      port: b.port,
      method: req.method,
      url: req.url,
      path: url.pathname,
      query: url.search,
      headers: req.headers,
      bodyLength: body.length,
      bodySha256: body.sha256,
      body: body.text,
    });
    const status = Number(req.headers["x-echo-status"] ?? b.status);
    res.writeHead(status, { ...headers, "content-length": Buffer.byteLength(echo) });
    res.end(req.method === "HEAD" ? undefined : echo);
  };

  for (const b of backends) b.server = switchableServer(b.port, (req, res) => handle(b, req, res));
  const listen = (b) => b.server.start();
  const stop = (b) => b.server.stop();
  for (const b of backends) await listen(b);
  const control = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://control");
    const b = backends.find((x) => String(x.port) === url.searchParams.get("port"));
    if (!b) return void res.writeHead(404).end("unknown port\n");
    if (url.pathname === "/set") {
      if (url.searchParams.has("delay")) b.delay = Number(url.searchParams.get("delay"));
      if (url.searchParams.has("status")) b.status = Number(url.searchParams.get("status"));
    } else if (url.pathname === "/down") await stop(b);
    else if (url.pathname === "/up") {
      await listen(b);
    } else if (url.pathname === "/reset") {
      Object.assign(b, { delay: 0, status: 200, hits: 0 });
      await listen(b);
    } else if (url.pathname !== "/stats") return void res.writeHead(404).end("unknown action\n");
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ name: b.name, port: b.port, delay: b.delay, status: b.status, hits: b.hits, up: b.server.up }));
  });
  await new Promise((resolve) => control.listen(controlPort, "127.0.0.1", () => resolve(undefined)));
  return {
    async close() {
      for (const b of backends) await stop(b);
      await new Promise((resolve) => control.close(() => resolve(undefined)));
    },
  };
}
