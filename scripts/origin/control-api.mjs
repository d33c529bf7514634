/**
 * JSON control API of the static origin (its own port, so it survives "origin down").
 *
 *   GET    /stats[?path=/x]          counters (+ recent requests); per path when asked
 *   POST   /reset                    zero counters, clear the log and every behaviour
 *   PUT    /files/<p>?size=N&seed=S[&mtime=T]   create a deterministic file (pattern-file.mjs)
 *   PUT    /files/<p>[?mtime=T]      store the request body
 *   GET    /files/<p>                metadata {path, size, sha256, etag, lastModified}
 *   DELETE /files/<p>                remove
 *   POST   /down | /up               close / reopen the data listener (same port)
 *   POST   /behave?path=/x&status=&delayMs=&noValidators=1&noLength=1&bytesPerSecond=&dieAfterBytes=
 *                 &stallAfterBytes=&replaceAfterBytes=&replaceSeed=&replaceMtime=&replaceSize=&once=1
 *                                    replace the path's behaviour; &clear=1 removes it
 */
import { rm, stat } from "node:fs/promises";
import { resolveSafePath, etagFor, lastModifiedFor } from "./http-rules.mjs";
import { parseBehaviour } from "./origin-state.mjs";
import { writePatternFile, writeFileAtomically, sha256File, rememberSha256 } from "./pattern-file.mjs";

/** Largest generated file; a guard against a typo filling the disk. */
const MAX_GENERATED = 64 * 1024 ** 3;

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/**
 * @param {import("node:http").IncomingMessage} req
 * @param {import("node:http").ServerResponse} res
 * @param {{ root: string, state: import("./origin-state.mjs").OriginState,
 *   down(): Promise<void>, up(): Promise<void> }} ctx
 */
export async function handleControl(req, res, ctx) {
  try {
    const url = new URL(req.url ?? "/", "http://control");
    const route = `${req.method} ${url.pathname}`;
    // Match on the raw target: URL parsing would already have resolved "/files/../x".
    if ((req.url ?? "").startsWith("/files/")) return json(res, 200, await files(req, url, ctx));
    switch (route) {
      case "GET /stats": {
        const p = url.searchParams.get("path");
        return json(res, 200, ctx.state.stats(p === null ? undefined : normalise(p, ctx.root)));
      }
      case "POST /reset":
        ctx.state.reset();
        return json(res, 200, { reset: true });
      case "POST /down":
        await ctx.down();
        return json(res, 200, { up: false });
      case "POST /up":
        await ctx.up();
        return json(res, 200, { up: true });
      case "POST /behave": {
        const p = url.searchParams.get("path");
        if (!p) throw new HttpError(400, "path is required");
        const norm = normalise(p, ctx.root);
        if (url.searchParams.get("clear") === "1") {
          ctx.state.behaviours.delete(norm);
          return json(res, 200, { path: norm, behaviour: null });
        }
        let behaviour;
        try { behaviour = parseBehaviour(url.searchParams); } catch (e) { throw new HttpError(400, String(e instanceof Error ? e.message : e)); }
        ctx.state.behaviours.set(norm, behaviour);
        return json(res, 200, { path: norm, behaviour });
      }
      default:
        throw new HttpError(404, `no such control endpoint: ${route}`);
    }
  } catch (err) {
    const status = err instanceof HttpError ? err.status : 500;
    json(res, status, { error: err instanceof Error ? err.message : String(err) });
  }
}

/** Normalise a path exactly as the data server does, so counters and behaviours line up. */
function normalise(p, root) {
  const r = resolveSafePath(p.startsWith("/") ? p : `/${p}`, root);
  if (!r.ok) throw new HttpError(400, `bad path: ${r.reason}`);
  return r.norm;
}

/** /files/<p> endpoints. */
async function files(req, url, { root }) {
  // Keep the raw (still percent-encoded) remainder so it is decoded once, like on the data port.
  const raw = (req.url ?? "").split("?")[0].slice("/files".length);
  const target = resolveSafePath(raw, root);
  if (!target.ok) throw new HttpError(400, `bad path: ${target.reason}`);
  if (target.norm === "/" || target.norm.endsWith("/")) throw new HttpError(400, "a file path is required");
  const q = url.searchParams;
  if (req.method === "GET") return metadata(target.norm, target.abs);
  if (req.method === "DELETE") {
    const existed = await stat(target.abs).then(() => true, () => false);
    await rm(target.abs, { force: true });
    return { path: target.norm, deleted: existed };
  }
  if (req.method !== "PUT") throw new HttpError(405, "use GET, PUT or DELETE");
  const mtime = q.has("mtime") ? wholeNumber(q.get("mtime"), "mtime", 0, 2 ** 40) : undefined;
  let written;
  if (q.has("size")) {
    const size = wholeNumber(q.get("size"), "size", 0, MAX_GENERATED);
    req.resume(); // any body is ignored; drain it so the connection stays usable
    written = await writePatternFile(target.abs, size, q.get("seed") ?? target.norm, { mtime });
  } else {
    // Async iteration of the request is the back-pressure: one chunk in flight to disk.
    written = await writeFileAtomically(target.abs, req, { mtime });
  }
  await rememberSha256(target.abs, written.sha256);
  return metadata(target.norm, target.abs);
}

async function metadata(norm, abs) {
  let st;
  try { st = await stat(abs); } catch { throw new HttpError(404, `no such file: ${norm}`); }
  if (!st.isFile()) throw new HttpError(404, `not a file: ${norm}`);
  return {
    path: norm,
    size: st.size,
    sha256: await sha256File(abs),
    etag: etagFor(st),
    lastModified: lastModifiedFor(st),
    mtime: Math.floor(st.mtimeMs / 1000),
  };
}

function wholeNumber(v, name, min, max) {
  if (v === null || !/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
    throw new HttpError(400, `${name} must be a whole number in ${min}..${max}`);
  }
  return Number(v);
}

function json(res, status, body) {
  const bytes = Buffer.from(JSON.stringify(body, null, 1) + "\n");
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": bytes.length, "Cache-Control": "no-store" });
  res.end(bytes);
}
