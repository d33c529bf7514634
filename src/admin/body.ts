/**
 * The one way an admin route reads its request body: size-limited while reading, the
 * type checked, the bytes parsed strictly. Whatever the client sends, the answer is
 * the fields or a one-line 4xx (400 malformed, 413 too large, 415 wrong type), never a
 * thrown parser error (issue #11 L6: Hono's parseBody threw on a bad multipart body).
 */
import { boundaryProblem, duplicate, multipartFramingProblem, parseJsonObject, parseMediaType, parseUrlencoded, utf8Text } from "../http/form-body";
import { plain } from "../http/plain";

/** Admin actions carry a few short fields: 16 KiB is far above any real one. */
export const MAX_ADMIN_BODY = 16 * 1024;

const FORM_TYPES = "application/x-www-form-urlencoded or multipart/form-data";

/** The form's text fields, or the answer refusing the body. */
export async function readForm(req: Request): Promise<Map<string, string> | Response> {
  const type = parseMediaType(req.headers.get("content-type"));
  if (!type.ok) return plain(415, `${type.reason}: send ${FORM_TYPES}`);
  const { type: media, params } = type.value;
  if (media !== "application/x-www-form-urlencoded" && media !== "multipart/form-data") return plain(415, `send ${FORM_TYPES}, not ${media}`);
  const boundary = params.get("boundary");
  if (media === "multipart/form-data") {
    const problem = boundaryProblem(boundary);
    if (problem) return plain(400, problem);
  }
  const bytes = await readLimited(req);
  if (bytes instanceof Response) return bytes;
  if (media === "application/x-www-form-urlencoded") {
    const text = utf8Text(bytes);
    if (text === null) return plain(400, "the form body is not UTF-8");
    const form = parseUrlencoded(text);
    return form.ok ? form.value : plain(400, form.reason);
  }
  return multipartFields(bytes, boundary!, req.headers.get("content-type")!);
}

/** A JSON object body (Content-Type: application/json), or the answer refusing it. */
export async function readJsonObject(req: Request): Promise<Record<string, unknown> | Response> {
  const type = parseMediaType(req.headers.get("content-type"));
  // A browser cannot send this type cross-site without a CORS preflight (which we never answer).
  if (!type.ok || type.value.type !== "application/json") return plain(415, "send Content-Type: application/json");
  const bytes = await readLimited(req);
  if (bytes instanceof Response) return bytes;
  const body = parseJsonObject(bytes);
  return body.ok ? body.value : plain(400, body.reason);
}

async function multipartFields(bytes: Uint8Array, boundary: string, contentType: string): Promise<Map<string, string> | Response> {
  // Framing first, by name; then the platform's RFC 7578 parser, whose throw is a 400 too.
  const framing = multipartFramingProblem(new TextDecoder("latin1").decode(bytes), boundary);
  if (framing) return plain(400, framing);
  let form: FormData;
  try {
    form = await new Response(bytes, { headers: { "content-type": contentType } }).formData();
  } catch {
    return plain(400, "the multipart body is malformed (RFC 7578)");
  }
  const fields = new Map<string, string>();
  for (const [name, value] of form) {
    if (typeof value !== "string") return plain(400, "admin forms take text fields, not files");
    const dup = duplicate(fields, name, value);
    if (dup) return plain(400, dup.reason);
  }
  return fields;
}

/** The whole body, at most MAX_ADMIN_BODY bytes, counted while reading (a chunked body has no Content-Length to trust). */
async function readLimited(req: Request): Promise<Uint8Array | Response> {
  const tooLarge = () => plain(413, `request body too large for an admin action (${MAX_ADMIN_BODY / 1024} KiB at most)`);
  const declared = req.headers.get("content-length");
  if (declared !== null && !(/^\d{1,15}$/.test(declared) && Number(declared) <= MAX_ADMIN_BODY)) return tooLarge();
  if (!req.body) return new Uint8Array(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > MAX_ADMIN_BODY) {
        reader.cancel().catch(() => {});
        return tooLarge();
      }
      chunks.push(value);
    }
  } catch {
    return plain(400, "the request body could not be read to its end");
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.byteLength;
  }
  return all;
}
