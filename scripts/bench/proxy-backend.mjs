/**
 * The proxy bench's backend: ONE Node process listening on two ports (the route's two
 * backends), keep-alive, started by proxy-bench.mjs as a child so its event loop never
 * shares a core's time slice with the load generator's.
 *
 *   GET .../small        1 KiB body (Content-Length), the req/s figure
 *   GET .../bytes?n=N    N bytes (Content-Length), streamed in 64 KiB writes with back-pressure
 *   GET .../echo         the request headers as JSON (checks only, never timed)
 *   GET /__stats         requests answered per port; POST /__reset zeroes them
 *
 * Prints one line {"ports":[a,b]} on stdout when both listen.
 */
import http from "node:http";

const SMALL = Buffer.alloc(1024, 0x61);
const CHUNK = Buffer.alloc(64 * 1024, 0x62);
const counts = new Map();

function streamBytes(res, n) {
  res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(n), "cache-control": "no-store" });
  let left = n;
  const pump = () => {
    while (left > 0) {
      if (res.destroyed) return;
      const c = left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left);
      left -= c.length;
      if (!res.write(c)) {
        res.once("drain", pump);
        return;
      }
    }
    res.end();
  };
  pump();
}

function handler(port) {
  return (req, res) => {
    const url = new URL(req.url, "http://backend");
    res.on("error", () => {}); // clients hanging up mid-body (throttle runs end that way)
    if (url.pathname === "/__stats") return res.end(JSON.stringify(Object.fromEntries(counts)));
    if (url.pathname === "/__reset") {
      counts.clear();
      return res.end("{}");
    }
    counts.set(port, (counts.get(port) ?? 0) + 1);
    if (url.pathname.endsWith("/small")) {
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": "1024", "cache-control": "no-store" });
      return res.end(SMALL);
    }
    if (url.pathname.endsWith("/bytes")) {
      const n = Number(url.searchParams.get("n"));
      if (!Number.isSafeInteger(n) || n < 0) {
        res.writeHead(400);
        return res.end("want ?n=<bytes>\n");
      }
      return streamBytes(res, n);
    }
    if (url.pathname.endsWith("/echo")) {
      const body = JSON.stringify({ port, method: req.method, url: req.url, headers: req.headers });
      res.writeHead(200, { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) });
      return res.end(body);
    }
    res.writeHead(404, { "content-type": "text/plain" });
    res.end("bench backend: unknown path\n");
  };
}

const ports = [];
for (let i = 0; i < 2; i++) {
  const server = http.createServer({ keepAlive: true, keepAliveTimeout: 120_000 }, null);
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 130_000;
  server.requestTimeout = 0;
  const port = await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve(server.address().port));
  });
  server.on("request", handler(port));
  ports.push(port);
}
process.stdout.write(JSON.stringify({ ports }) + "\n");
