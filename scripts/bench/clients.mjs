/**
 * Load and measurement clients. The same client is always used for a node figure and its
 * baseline: wrk for request rates, curl for bulk throughput, node:http for time to first
 * byte and fills, raw sockets for slow downloads, /proc for workerd memory.
 */
import { createHash } from "node:crypto";
import http from "node:http";
import net from "node:net";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { rssBytes } from "./stack.mjs";
import { run } from "./procs.mjs";

/** No keep-alive: every timed request pays the same (loopback) connect. */
const freshAgent = new http.Agent({ keepAlive: false });

/**
 * GET that discards the body. Times are from the call to the response head (headMs),
 * the first body byte (ttfbMs) and the end (totalMs). With `{ hash: true }` the body's
 * SHA-256 (hex) comes back too, so a fast answer with wrong bytes cannot pass a figure.
 * @returns {Promise<{ status: number, headers: http.IncomingHttpHeaders, headMs: number, ttfbMs: number, totalMs: number, bytes: number, sha256?: string }>}
 */
export function httpGet(url, headers = {}, { hash = false } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = http.get(url, { headers, agent: freshAgent }, (res) => {
      const headMs = performance.now() - t0;
      let ttfbMs = Number.NaN;
      let bytes = 0;
      const h = hash ? createHash("sha256") : null;
      res.on("data", (d) => {
        if (bytes === 0) ttfbMs = performance.now() - t0;
        bytes += d.length;
        h?.update(d);
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, headMs, ttfbMs, totalMs: performance.now() - t0, bytes, ...(h ? { sha256: h.digest("hex") } : {}) }));
      res.on("error", reject);
    });
    req.on("error", reject);
  });
}

/** One GET through `agent` (keep-alive, the caller's), its body read whole (as text too). */
export function agentGet(agent, url, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent, headers }, (res) => {
      const chunks = [];
      res.on("data", (d) => chunks.push(d));
      res.on("end", () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, bytes: body.length, body: body.toString("utf8") });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
  });
}

/**
 * A GET that discards its body and can be stopped: `bytes` grows as the body arrives,
 * `done` resolves at the end (or when stopped), stop() closes the connection.
 */
export function startGet(url, headers = {}) {
  const state = { status: 0, bytes: 0, ended: false };
  let req;
  const done = new Promise((resolve, reject) => {
    req = http.get(url, { headers, agent: freshAgent }, (res) => {
      state.status = res.statusCode ?? 0;
      res.on("data", (d) => { state.bytes += d.length; });
      res.on("end", () => { state.ended = true; resolve(state); });
      res.on("close", () => resolve(state));
      res.on("error", () => resolve(state));
    });
    req.on("error", reject);
  });
  return { state, done, stop: () => req.destroy() };
}

/** The wrk script that gives each request the next of n client addresses. */
const CLIENT_ADDRESSES_LUA = fileURLToPath(new URL("./client-addresses.lua", import.meta.url));

/**
 * wrk -t1 (2 cores in total: one for workerd, one for the client and the origin).
 * `clients`: every request carries CF-Connecting-IP, rotating over that many addresses
 * (client-addresses.lua), as requests through Cloudflare always carry one.
 * @returns {Promise<{ rps: number, requests: number, non2xx: number, errors: number }>}
 */
export async function wrk(url, { connections, seconds, headers = {}, clients = 0 }) {
  const args = ["-t1", `-c${connections}`, `-d${seconds}s`];
  for (const [k, v] of Object.entries(headers)) args.push("-H", `${k}: ${v}`);
  const script = clients > 0 ? ["-s", CLIENT_ADDRESSES_LUA] : [];
  const scriptArgs = clients > 0 ? ["--", String(clients)] : [];
  const { stdout } = await run("wrk", [...args, ...script, url, ...scriptArgs], { timeoutMs: (seconds + 30) * 1000 });
  const num = (re) => Number(re.exec(stdout)?.[1] ?? 0);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  return {
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    requests: num(/(\d+) requests in/),
    non2xx: num(/Non-2xx or 3xx responses: (\d+)/),
    errors: sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
  };
}

/**
 * curl -o /dev/null: bytes/s of one download (a fast client that discards), of the whole
 * body or of what arrived within `maxSeconds` (then `complete` is false).
 */
export async function curlDownload(url, headers = {}, { maxSeconds } = {}) {
  const args = ["-s", "-o", "/dev/null", "-w", "%{http_code} %{size_download} %{speed_download} %{time_total}"];
  for (const [k, v] of Object.entries(headers)) args.push("-H", `${k}: ${v}`);
  if (maxSeconds) args.push("--max-time", String(maxSeconds));
  const { stdout, code } = await run("curl", [...args, url], { timeoutMs: 600_000, okCodes: [0, 28] });
  const [status, bytes, speed, total] = stdout.trim().split(" ").map(Number);
  return { status, bytes, bytesPerSec: speed, seconds: total, complete: code === 0 };
}

/** Samples a process's RSS every `everyMs` until stop(); peak and last are bytes. */
export function sampleRss(pid, everyMs = 50) {
  let peak = 0;
  let last = 0;
  let n = 0;
  let busy = false;
  const timer = setInterval(async () => {
    if (busy) return;
    busy = true;
    const v = await rssBytes(pid);
    busy = false;
    if (Number.isFinite(v)) {
      last = v;
      peak = Math.max(peak, v);
      n++;
    }
  }, everyMs);
  return {
    get peak() { return peak; },
    get samples() { return n; },
    stop() {
      clearInterval(timer);
      return { peak, last, samples: n };
    },
  };
}

/** Median of a few RSS readings `gapMs` apart (one reading can catch a transient). */
export async function steadyRss(pid, readings = 5, gapMs = 100) {
  const v = [];
  for (let i = 0; i < readings; i++) {
    v.push(await rssBytes(pid));
    await new Promise((r) => setTimeout(r, gapMs));
  }
  return median(v);
}

export function median(values) {
  const s = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/**
 * `count` raw HTTP/1.1 downloads that read `readFirst` bytes and then stop reading
 * (the socket stays open, so the server side stays in flight).
 * @param {{ host: string, port: number, path: string, count: number, ipOf: (i: number) => string, readFirst?: number }} o
 */
export async function openSlowDownloads({ host, port, path, count, ipOf, readFirst = 64 * 1024 }) {
  const clients = [];
  const ready = [];
  for (let i = 0; i < count; i++) {
    const c = { socket: net.connect({ host, port }), received: 0, head: "", status: 0, headBytes: 0, localPort: 0 };
    clients.push(c);
    ready.push(new Promise((resolve) => {
      c.socket.on("connect", () => {
        c.localPort = c.socket.localPort ?? 0;
        c.socket.write(`GET ${path} HTTP/1.1\r\nHost: bench\r\nCF-Connecting-IP: ${ipOf(i)}\r\nConnection: close\r\n\r\n`);
      });
      c.socket.on("data", (d) => {
        if (!c.status) {
          c.head += d.toString("latin1");
          const end = c.head.indexOf("\r\n\r\n");
          if (end >= 0) {
            c.status = Number(c.head.slice(9, 12));
            c.headBytes = end + 4;
          }
        }
        c.received += d.length;
        if (c.received >= readFirst || c.status >= 300) {
          c.socket.pause();
          resolve(undefined);
        }
      });
      c.socket.on("error", () => resolve(undefined));
      c.socket.on("close", () => resolve(undefined));
    }));
  }
  await Promise.race([Promise.all(ready), new Promise((r) => setTimeout(r, 30_000))]);
  return {
    clients,
    close() {
      for (const c of clients) c.socket.destroy();
    },
  };
}

/**
 * How many slow downloads the server still has bytes for, that is bytes not yet handed
 * to the kernel: total − (read by the client + client receive queue + server send queue),
 * from /proc/net/tcp. A download whose whole body sits in socket buffers is not in flight.
 */
export async function stillStreaming(clients, serverPort, bodyBytes) {
  const queues = new Map(); // "localPort>remotePort" -> { tx, rx }
  for (const f of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    const text = await readFile(f, "utf8").catch(() => "");
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 5) continue;
      const lport = parseInt(cols[1].split(":")[1], 16);
      const rport = parseInt(cols[2].split(":")[1], 16);
      const [tx, rx] = cols[4].split(":").map((h) => parseInt(h, 16));
      queues.set(`${lport}>${rport}`, { tx, rx });
    }
  }
  let streaming = 0;
  for (const c of clients) {
    const mine = queues.get(`${c.localPort}>${serverPort}`);
    const server = queues.get(`${serverPort}>${c.localPort}`);
    if (!mine || !server || c.status !== 200) continue;
    const handedOver = c.received + c.socket.readableLength - c.headBytes + mine.rx + server.tx;
    if (handedOver < bodyBytes) streaming++;
  }
  return streaming;
}
