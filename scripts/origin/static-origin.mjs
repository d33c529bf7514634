/**
 * A real static HTTP/1.1 origin (node:http) for the local stack and the workerd tests.
 *
 * Data port: GET/HEAD of files under `root`, nginx-like validators, single byte ranges,
 * conditional requests, streamed bodies with back-pressure. Optional control port (JSON
 * API, see control-api.mjs) to read counters, create files and make the origin misbehave
 * or go down. Control lives on its own port so "origin down" can close the data
 * listener while tests keep steering.
 *
 * Deliberate simplifications, documented so tests do not rely on them:
 * - several ranges in one Range header get a 200 with the full body (no multipart);
 * - Range is only honoured for GET (RFC 9110 §14.2), HEAD always describes the full file;
 * - If-Match / If-Unmodified-Since are not evaluated.
 *
 * CLI: node scripts/origin/static-origin.mjs <root> [port] [controlPort]
 */
import http from "node:http";
import { open, realpath } from "node:fs/promises";
import { createReadStream } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import {
  contentTypeFor, etagFor, lastModifiedFor, noneMatchHits, notModifiedSince, ifRangeAllows, parseRange, resolveSafePath,
} from "./http-rules.mjs";
import { OriginState } from "./origin-state.mjs";
import { handleControl } from "./control-api.mjs";
import { writePatternFile, rememberSha256 } from "./pattern-file.mjs";

/** Read size per chunk; also the unit in which bodyBytes advances for unthrottled bodies. */
const READ_CHUNK = 64 * 1024;

/**
 * Start the origin.
 * @param {{ root: string, host?: string, port?: number, controlPort?: number }} opts
 * @returns {Promise<{ url: string, port: number, controlUrl?: string, controlPort?: number,
 *   close(): Promise<void>, state: OriginState, down(): Promise<void>, up(): Promise<void> }>}
 */
export async function startStaticOrigin({ root, host = "127.0.0.1", port = 0, controlPort }) {
  // Resolve symlinks once so the containment check compares real paths.
  const realRoot = await realpath(path.resolve(root));
  const state = new OriginState();
  const ctx = { root: realRoot, state };
  let data = http.createServer((req, res) => void serveFile(req, res, ctx));
  await listen(data, port, host);
  const dataPort = /** @type {import("node:net").AddressInfo} */ (data.address()).port;
  let isUp = true;

  async function down() {
    if (!isUp) return;
    isUp = false;
    // close() stops accepting; closeAllConnections() also kills keep-alive and in-flight
    // sockets so clients see resets now and ECONNREFUSED on reconnect.
    const closed = new Promise((resolve) => data.close(() => resolve(undefined)));
    data.closeAllConnections();
    await closed;
  }
  async function up() {
    if (isUp) return;
    data = http.createServer((req, res) => void serveFile(req, res, ctx));
    await listen(data, dataPort, host);
    isUp = true;
  }

  const origin = {
    url: `http://${urlHost(host)}:${dataPort}`,
    port: dataPort,
    controlUrl: /** @type {string|undefined} */ (undefined),
    controlPort: /** @type {number|undefined} */ (undefined),
    state,
    down,
    up,
    async close() {
      await down();
      if (control) {
        const closed = new Promise((resolve) => control.close(() => resolve(undefined)));
        control.closeAllConnections();
        await closed;
      }
    },
  };

  /** @type {http.Server|undefined} */
  let control;
  if (controlPort !== undefined) {
    control = http.createServer((req, res) => void handleControl(req, res, { root: realRoot, state, down, up }));
    await listen(control, controlPort, host);
    origin.controlPort = /** @type {import("node:net").AddressInfo} */ (control.address()).port;
    origin.controlUrl = `http://${urlHost(host)}:${origin.controlPort}`;
  }
  return origin;
}

function urlHost(host) {
  return host.includes(":") ? `[${host}]` : host;
}

/** Listen, turning EADDRINUSE into a rejected promise instead of an unhandled 'error'. */
function listen(server, port, host) {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve(undefined);
    });
  });
}

/**
 * Data-port handler.
 * @param {http.IncomingMessage} req
 * @param {http.ServerResponse} res
 * @param {{ root: string, state: OriginState }} ctx
 */
async function serveFile(req, res, { root, state }) {
  const target = resolveSafePath(req.url ?? "/", root);
  const entry = state.log(req, target.norm);
  res.on("close", () => { entry.status = res.statusCode; });
  try {
    if (req.method !== "GET" && req.method !== "HEAD") {
      return plain(res, 405, "method not allowed\n", { Allow: "GET, HEAD" });
    }
    const isGet = req.method === "GET";
    state.bump(target.norm, isGet ? "gets" : "heads");
    if (isGet && req.headers.range !== undefined) state.bump(target.norm, "rangeGets");
    if (!target.ok) return plain(res, 400, `bad path: ${target.reason}\n`);

    const b = state.behaviours.get(target.norm) ?? {};
    if (b.delayMs) {
      await sleep(b.delayMs);
      if (res.destroyed) return;
    }
    if (b.status) return plain(res, b.status, `origin configured to answer ${b.status}\n`, b.location ? { Location: b.location } : {}, !isGet);

    const fh = await openInside(target.abs, root);
    if (!fh || target.norm.endsWith("/")) {
      await fh?.close();
      return plain(res, 404, "not found\n");
    }
    // fstat on the open handle: size and validators describe exactly the bytes we stream,
    // even if a control PUT renames a new file into place meanwhile.
    const st = await fh.stat();
    if (!st.isFile()) {
      await fh.close();
      return plain(res, 404, "not found\n");
    }
    const validators = b.noValidators ? {} : { etag: etagFor(st), lastModified: lastModifiedFor(st) };
    const headers = {
      "Content-Type": contentTypeFor(target.abs),
      "Accept-Ranges": "bytes",
      ...(validators.etag ? { ETag: validators.etag, "Last-Modified": validators.lastModified } : {}),
      ...(b.cacheControl ? { "Cache-Control": b.cacheControl } : {}),
    };

    const inm = req.headers["if-none-match"];
    const ims = req.headers["if-modified-since"];
    const notModified = inm !== undefined
      ? noneMatchHits(inm, validators.etag)
      : ims !== undefined && validators.lastModified !== undefined && notModifiedSince(ims, st);
    if (notModified) {
      await fh.close();
      state.bump(target.norm, "conditional304s");
      res.writeHead(304, headers);
      return void res.end();
    }

    let range = null;
    const ifRange = req.headers["if-range"];
    if (isGet && (ifRange === undefined || ifRangeAllows(ifRange, validators))) {
      range = parseRange(req.headers.range, st.size);
    }
    if (range === "unsatisfiable") {
      await fh.close();
      return plain(res, 416, "", { ...headers, "Content-Range": `bytes */${st.size}` });
    }
    const start = range ? range.start : 0;
    const end = range ? range.end : st.size - 1;
    if (range) headers["Content-Range"] = `bytes ${start}-${end}/${st.size}`;
    if (!b.noLength) headers["Content-Length"] = String(end - start + 1);
    if (b.reprDigest) headers["Repr-Digest"] = b.reprDigest;
    res.writeHead(range ? 206 : 200, headers);
    if (!isGet || end < start) {
      await fh.close();
      return void res.end();
    }
    const source = createReadStream(/** @type {any} */ (null), { fd: fh, start, end, highWaterMark: READ_CHUNK });
    const hooks = {
      // A one-shot behaviour ends when it fires, before the client can come back for a resume.
      fired() {
        if (b.once && state.behaviours.get(target.norm) === b) state.behaviours.delete(target.norm);
      },
      // A new version replaces the file (rename: this answer's open handle keeps the old bytes).
      async replace() {
        const mtime = b.replaceMtime ?? Math.floor(st.mtimeMs / 1000) + 1;
        const w = await writePatternFile(target.abs, b.replaceSize ?? st.size, b.replaceSeed ?? `${target.norm}#replaced`, { mtime });
        await rememberSha256(target.abs, w.sha256);
      },
    };
    await pumpBody(res, source, b, (n) => {
      state.bump(target.norm, "bodyBytes", n);
      entry.bodyBytes += n;
    }, hooks);
  } catch (err) {
    if (!res.headersSent) plain(res, 500, `origin error: ${err instanceof Error ? err.message : err}\n`);
    else res.destroy();
  }
}

/** Open a file only if its real path stays under root (symlinks must not escape). */
async function openInside(abs, root) {
  try {
    const real = await realpath(abs);
    if (real !== root && !real.startsWith(root + path.sep)) return undefined;
    return await open(real, "r");
  } catch {
    return undefined; // ENOENT, ENOTDIR, EACCES...: all "not found" for a public origin
  }
}

/** Short text response; `headOnly` suppresses the body for HEAD. */
function plain(res, status, body, extra = {}, headOnly = false) {
  const bytes = Buffer.from(body);
  res.writeHead(status, { "Content-Type": "text/plain; charset=utf-8", "Content-Length": bytes.length, ...extra });
  res.end(headOnly || status === 204 || status === 304 ? undefined : bytes);
}

/**
 * Stream `source` into `res` honouring back-pressure, optional throttling, a deliberate
 * mid-body death and a mid-body change of the file (`hooks`). `count` is called from
 * write callbacks, i.e. only for bytes the socket accepted; writes dropped because the
 * client went away never count.
 * @param {http.ServerResponse} res
 * @param {import("node:stream").Readable} source
 * @param {import("./origin-state.mjs").Behaviour} b
 * @param {(n: number) => void} count
 * @param {{ fired(): void, replace(): Promise<void> }} [hooks]
 */
async function pumpBody(res, source, b, count, hooks = { fired() {}, async replace() {} }) {
  const bps = b.bytesPerSecond ?? 0;
  const limit = b.dieAfterBytes ?? -1;
  let replaceAt = b.replaceAfterBytes ?? -1;
  const stallAt = b.stallAfterBytes ?? -1;
  // Throttled bodies go out in ~20 slices a second so the rate is smooth, not bursty.
  const slice = bps > 0 ? Math.max(1, Math.floor(bps / 20)) : Infinity;
  const started = Date.now();
  let sent = 0;
  // The file changes once `replaceAt` bytes are out (before dying at the same count, if both).
  const maybeReplace = async () => {
    if (replaceAt < 0 || sent < replaceAt) return;
    replaceAt = -1;
    hooks.fired();
    await hooks.replace();
  };
  try {
    await maybeReplace();
    if (limit === 0) {
      hooks.fired();
      return await die(res);
    }
    for await (const chunk of source) {
      for (let off = 0; off < chunk.length;) {
        if (res.destroyed) return;
        let n = Math.min(chunk.length - off, slice);
        if (limit > 0) n = Math.min(n, limit - sent);
        if (stallAt > 0) n = Math.min(n, stallAt - sent);
        if (replaceAt > sent) n = Math.min(n, replaceAt - sent);
        if (bps > 0) {
          const due = started + (sent * 1000) / bps;
          if (due > Date.now()) await sleep(due - Date.now());
          if (res.destroyed) return;
        }
        const piece = chunk.subarray(off, off + n);
        off += n;
        sent += n;
        const ok = res.write(piece, (err) => { if (!err) count(piece.length); });
        // Listen for 'drain' before a replace: it may fire while the new file is written.
        const drain = ok ? null : drained(res);
        await maybeReplace();
        if (limit > 0 && sent >= limit) {
          hooks.fired();
          return await die(res);
        }
        if (stallAt > 0 && sent >= stallAt) {
          hooks.fired();
          return await new Promise((resolve) => res.once("close", resolve));
        }
        if (drain) await drain;
      }
    }
    res.end();
  } catch {
    res.destroy();
  } finally {
    source.destroy();
  }
}

/** Wait for 'drain' (or the end of the response), without piling up listeners. */
function drained(res) {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve(undefined);
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

/**
 * Let what was written reach the kernel, then kill the connection mid-body.
 * Polls writableLength because 'drain' only fires after a write returned false.
 */
async function die(res) {
  res.flushHeaders(); // headers may still sit in the response buffer (writeHead does not send them)
  const socket = res.socket;
  if (!socket) return;
  for (let waited = 0; socket.writableLength > 0 && !socket.destroyed && waited < 10_000; waited += 5) await sleep(5);
  socket.destroy();
}

// CLI entry: handy for poking at the origin by hand.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [rootArg = ".", portArg = "8080", controlArg] = process.argv.slice(2);
  const o = await startStaticOrigin({
    root: rootArg, port: Number(portArg), controlPort: controlArg === undefined ? undefined : Number(controlArg),
  });
  console.log(`static origin ${o.url} serving ${path.resolve(rootArg)}${o.controlUrl ? ` (control ${o.controlUrl})` : ""}`);
  const stop = () => void o.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}
