/**
 * X-Sendfile (lighttpd) and X-Accel-Redirect (nginx) for the base's reverse-proxy routes:
 * a backend answers with a header naming a file instead of the file's bytes, and the
 * base serves that file from R2 or the origin, with ranges, conditionals and gzip.
 *
 * - Allowed on the route: the backend's body is cancelled unread and the named file is
 *   served; its status, validators and type are the file's. Of the backend's fields only
 *   Set-Cookie, Content-Disposition, Cache-Control and Expires are kept (nginx keeps the
 *   same ones on X-Accel-Redirect, and also Content-Type; here the type is the file's, as
 *   PHP and friends send a default text/html with every answer).
 * - Not allowed: the backend's answer passes unchanged, body included.
 * - Either way the control fields (X-Sendfile, X-LIGHTTPD-send-file, X-Accel-*) never
 *   reach the client, as nginx hides X-Accel-* by default.
 * - A name that would leave the root is refused with 403 and a one-line reason, logged
 *   as one JSON warning, and nothing is read (root.ts lists what is refused).
 */
import { ConfigError, absoluteUrl, integer, token, type RawVars } from "../../config/fields";
import { cacheStatus } from "../../http/cache-status";
import { plain } from "../../http/plain";
import { perIsolate } from "../../platform/per-isolate";
import type { FetchLike } from "../../platform/timed-fetch";
import { negotiateCoding } from "./compress";
import { contentTypeByExtension } from "./content-type";
import { serveOriginFile } from "./origin-file";
import { serveR2File, type R2FileInfo } from "./r2-file";
import { originFileUrl, parseSendfileRoot, r2Key, resolveName, type SendfileRoot } from "./root";
import { log } from "../../platform/log";
import { requestId } from "../../http/request-id";

export interface SendfileOptions {
  /** Whether this route's backend may name files (lighttpd proxy-core.allow-x-sendfile). */
  allow: boolean;
  /** "r2:<key prefix>" or "origin:<path prefix>" (see root.ts). */
  root: string;
}

/** The base's bindings this needs (a subset of its Env). */
export interface SendfileEnv {
  STORE: R2Bucket;
  /** Required for "origin:" roots. */
  ORIGIN_URL?: string;
  BASE_ID?: string;
  ORIGIN_TIMEOUT_MS?: string;
}

export interface SendfileDeps {
  /** fetch for "origin:" roots (default: the global fetch). */
  fetch?: FetchLike;
  /** Receives every refusal (default: a `sendfile.refused` log line, platform/log.ts). */
  warn?: (record: SendfileWarning) => void;
}

export interface SendfileWarning {
  level: "warn";
  event: "sendfile-refused";
  header: string;
  /** The backend's value, cut to 256 characters. */
  value: string;
  reason: string;
  method: string;
  path: string;
}

/** Fields in which a backend names the file, in the order they are looked at. */
export const SENDFILE_HEADERS = ["x-sendfile", "x-lighttpd-send-file", "x-accel-redirect"] as const;
/** Backend-to-proxy control fields, never forwarded to a client. */
/** Every header that controls the proxy, never forwarded to a client. */
export const CONTROL_HEADERS = [...SENDFILE_HEADERS, "x-accel-buffering", "x-accel-charset", "x-accel-expires", "x-accel-limit-rate"];
/** Fields of the backend's answer that still apply to the file served in its place. */
const KEPT_FROM_BACKEND = ["content-disposition", "cache-control", "expires"];

export type SendfileHandler = (req: Request, backend: Response, env: SendfileEnv, deps?: SendfileDeps) => Promise<Response>;

/** Checks the options once (ConfigError naming sendfile.root) and returns the handler. */
export function createSendfile(opts: SendfileOptions): SendfileHandler {
  const root = parseSendfileRoot(opts.root);
  return (req, backend, env, deps) => handle(opts.allow, root, req, backend, env, deps ?? {});
}

async function handle(allow: boolean, root: SendfileRoot, req: Request, backend: Response, env: SendfileEnv, deps: SendfileDeps): Promise<Response> {
  const named = SENDFILE_HEADERS.flatMap((header) => {
    const value = backend.headers.get(header);
    return value === null ? [] : [{ header, value }];
  });
  if (!CONTROL_HEADERS.some((h) => backend.headers.has(h))) return backend;
  const [first, ...others] = named;
  if (!allow || !first) return withoutControlHeaders(backend);

  discard(backend);
  const vars = settingsOf(env);
  if (vars instanceof ConfigError) return plain(500, vars.message);
  const id = vars.baseId;
  const detail = `sendfile-${root.kind}`;
  const status = (fwdStatus?: number) => cacheStatus(id, { fwd: "bypass", fwdStatus, detail });
  const refuse = (code: number, header: string, value: string, reason: string) => {
    const path = new URL(req.url).pathname;
    const record: SendfileWarning = { level: "warn", event: "sendfile-refused", header, value: value.slice(0, 256), reason, method: req.method, path };
    (deps.warn ?? (({ level: _, event: __, ...r }) => log.warn("sendfile.refused", { requestId: requestId(req.headers), ...r })))(record);
    return plain(code, `sendfile refused: ${reason}`, { "cache-status": status() });
  };

  if (others.some((n) => n.value !== first.value)) {
    return refuse(502, named.map((n) => n.header).join(","), first.value, "the backend named different files in different fields");
  }
  const name = resolveName(first.value);
  if (!name.ok) return refuse(403, first.header, first.value, name.reason);

  // The file is read as by GET (HEAD stays HEAD), whatever method reached the backend.
  const fileReq = new Request(req.url, { method: req.method === "HEAD" ? "HEAD" : "GET", headers: req.headers });
  let served: Response;
  let file: R2FileInfo | null = null;
  if (root.kind === "r2") {
    ({ response: served, file } = await serveR2File(env.STORE, r2Key(root, name), fileReq, status()));
  } else {
    const origin = vars.origin;
    if (origin instanceof ConfigError) return plain(500, origin.message, { "cache-status": status() });
    const url = originFileUrl(origin.url, root, name);
    if (url === null) return refuse(403, first.header, first.value, "file name leaves the configured origin");
    served = await serveOriginFile({ url, timeoutMs: origin.timeoutMs, cacheStatus: status, fetch: deps.fetch }, fileReq);
  }
  // A 304 names no type, yet must describe the same variant (Vary, weak ETag) as its 200.
  const contentType = file?.contentType ?? served.headers.get("content-type") ?? contentTypeByExtension(name.path);
  return finish(fileReq, served, backend.headers, file, contentType);
}

/** Backend fields that still apply, stored coding, then gzip when it fits (compress.ts). */
function finish(req: Request, res: Response, backend: Headers, file: R2FileInfo | null, contentType: string): Response {
  const describesFile = (res.status >= 200 && res.status < 300) || res.status === 304;
  if (!describesFile) return res;
  const headers = new Headers(res.headers);
  if (file?.contentDisposition) headers.set("content-disposition", file.contentDisposition);
  if (file?.contentLanguage && res.status !== 304) headers.set("content-language", file.contentLanguage);
  for (const name of KEPT_FROM_BACKEND) {
    const v = backend.get(name);
    if (v !== null) headers.set(name, v);
  }
  for (const cookie of backend.getSetCookie()) headers.append("set-cookie", cookie);
  // Bytes stored with a coding (R2 httpMetadata.contentEncoding) are sent as stored.
  const preEncoded = file?.contentEncoding != null && file.contentEncoding.toLowerCase() !== "identity";
  if (preEncoded && res.status !== 304) headers.set("content-encoding", file.contentEncoding!);

  const body = req.method === "HEAD" || res.status === 304 ? null : res.body;
  const coded = negotiateCoding(req, res.status, headers, body, { contentType, preEncoded });
  // "manual": the body already is what Content-Encoding says; workerd must not encode it again.
  const manual = coded.encoded || preEncoded;
  return new Response(coded.body, { status: res.status, headers, ...(manual ? { encodeBody: "manual" as const } : {}) });
}

interface Settings {
  baseId: string;
  /** Only "origin:" roots need it, so a base without ORIGIN_URL still serves "r2:" roots. */
  origin: { url: string; timeoutMs: number } | ConfigError;
}

// The base's vars, read with its own field parsers once per env (isolate + deployment).
const settingsOf = perIsolate((env: SendfileEnv): Settings | ConfigError => {
  const vars = env as unknown as RawVars;
  try {
    let origin: Settings["origin"];
    try {
      origin = { url: absoluteUrl(vars, "ORIGIN_URL"), timeoutMs: integer(vars, "ORIGIN_TIMEOUT_MS", 15_000, 100, 600_000) };
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      origin = e;
    }
    return { baseId: token(vars, "BASE_ID", "offload-base"), origin };
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e;
  }
});

/** Cancels a body we will not read (not awaited: a slow backend must not delay the file). */
function discard(res: Response): void {
  try {
    res.body?.cancel().catch(() => {});
  } catch {
    // Already used or locked: nothing of it is read either way.
  }
}

function withoutControlHeaders(res: Response): Response {
  const headers = new Headers(res.headers);
  for (const h of CONTROL_HEADERS) headers.delete(h);
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
}
