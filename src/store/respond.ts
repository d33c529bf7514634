import { evaluatePreconditions, ifRangeAllows } from "../http/conditional";
import { multipartBoundary, multipartPlan } from "../http/multipart";
import { contentRange, decideRange, unsatisfiedRange, type ByteRange } from "../http/range";
import { planReads, shapeRanges } from "../http/range-coalesce";
import { DEFAULT_MAX_RANGES } from "../config/node-config";
import { plain } from "../http/plain";
import { sha256DigestField } from "../http/digest";
import type { StoredMeta } from "./meta";
import { multipartBody } from "./multipart-body";
import type { StoredCopy } from "./copy";
import { isShared } from "./meta-memo";
import { perIsolate } from "../platform/per-isolate";
import { toldAnswer, type FieldRecord } from "../platform/answer-facts";

export interface CopyAnswer {
  /** Cache-Status value (RFC 9211) of the answer. */
  cacheStatus: string;
  /** Parts per answer after coalescing (MAX_RANGES, default DEFAULT_MAX_RANGES); more is answered with the whole file. */
  maxRanges?: number;
}

type Fields = Record<string, string>;

/**
 * What a request asks: a Request, or its method and headers as the caller read them once
 * (each read of a Request's method or headers is a call into the runtime).
 */
export type Asked = Pick<Request, "method" | "headers">;

/**
 * Fields every answer about a stored representation carries, as a plain record: the
 * answer's Headers are made from it in one call (each Headers.set crosses into the
 * runtime, and a hit is mostly this; issue #13).
 */
function representationFields(meta: Pick<StoredMeta, "etag" | "lastModified" | "contentType" | "cacheControl" | "sha256">, cacheStatus: string): Fields {
  const h: Fields = { "accept-ranges": "bytes", "cache-status": cacheStatus };
  if (meta.contentType) h["content-type"] = meta.contentType;
  if (meta.etag) h.etag = meta.etag;
  if (meta.lastModified) h["last-modified"] = meta.lastModified;
  if (meta.cacheControl) h["cache-control"] = meta.cacheControl;
  // RFC 9530 §2: the digest of the whole representation, also on 206 and HEAD.
  if (meta.sha256) h["repr-digest"] = sha256DigestField(meta.sha256);
  return h;
}

/**
 * The fields of a whole-file answer (200) from a shared meta (meta-memo.ts), kept with it
 * as a record and a ready Headers, so a hot hit builds no field record and no Headers of
 * its own (issue #13). Only the Cache-Status value varies per answer (a hit's ttl, once a
 * second): the fields are made again when it changed. Copied by the Response and told as
 * its facts (platform/answer-facts.ts), so never changed once kept.
 */
const wholeAnswerOf = perIsolate((_meta: StoredMeta) => ({ cacheStatus: "", fields: null as FieldRecord | null, headers: null as Headers | null }));

/** A whole-file answer (200) with `body`, its fields kept with a shared meta. */
function wholeAnswer(meta: StoredMeta, cacheStatus: string, body: ReadableStream<Uint8Array> | null): Response {
  const fields = () => ({ ...representationFields(meta, cacheStatus), "content-length": String(meta.length) });
  if (!isShared(meta)) return toldAnswer(body, 200, fields());
  const kept = wholeAnswerOf(meta);
  if (kept.fields === null || kept.headers === null || kept.cacheStatus !== cacheStatus) {
    kept.fields = fields();
    kept.headers = new Headers(kept.fields);
    kept.cacheStatus = cacheStatus;
  }
  return toldAnswer(body, 200, kept.fields, kept.headers);
}

/**
 * Answer a GET/HEAD from a stored copy: RFC 9110 §13 preconditions, then §14 ranges,
 * byte for byte as nginx answers for a static file, except that ranges are coalesced
 * and capped (http/range-coalesce.ts) and a multipart answer reads its parts in as few
 * storage reads as their order allows. Returns null when the copy disappeared between
 * lookup and read (the caller then tries elsewhere).
 */
export async function respondFromCopy(req: Asked, copy: StoredCopy, answer: CopyAnswer): Promise<Response | null> {
  const { cacheStatus, maxRanges = DEFAULT_MAX_RANGES } = answer;
  const { meta, body } = copy;
  // Made only for the answers that are not a whole file (those have kept fields, below).
  const fields = () => representationFields(meta, cacheStatus);
  const { method, headers: asked } = req;
  const head = method === "HEAD";
  const validators = { etag: meta.etag, lastModified: meta.lastModified };

  const pre = evaluatePreconditions(method, asked, validators);
  if (pre !== "proceed") {
    body.dispose();
    const headers = fields();
    if (pre === "not-modified") {
      // RFC 9110 §15.4.5: 304 carries the validators but no content headers.
      delete headers["content-type"];
      delete headers["accept-ranges"];
      delete headers["repr-digest"];
      return toldAnswer(null, 304, headers);
    }
    return plain(412, "precondition failed: If-Match / If-Unmodified-Since did not match the stored copy", errorHeaders(headers));
  }

  // If-Range (RFC 9110 §13.1.5) matters only with a Range: most requests read one field, not two.
  const asksRange = asked.get("range");
  const range = asksRange !== null && ifRangeAllows(asked, validators) ? asksRange : null;
  const decided = decideRange(range, meta.length);
  const decision = decided.kind === "partial" ? shapeRanges(decided.ranges, maxRanges) : decided;

  if (decision.kind === "unsatisfiable") {
    body.dispose();
    const headers = fields();
    headers["content-range"] = unsatisfiedRange(meta.length);
    return plain(416, `range not satisfiable: the file is ${meta.length} bytes`, errorHeaders(headers));
  }

  if (decision.kind === "full") {
    if (head) {
      body.dispose();
      return wholeAnswer(meta, cacheStatus, null);
    }
    // No await for a body already open (a hit's inline one): each is a microtask turn.
    const opened = body.full();
    const stream = opened instanceof Promise ? await opened : opened;
    return stream ? wholeAnswer(meta, cacheStatus, stream) : null;
  }

  // nginx advertises Accept-Ranges on 200 only; a 206 already shows ranges work.
  const headers = fields();
  delete headers["accept-ranges"];
  const [only, ...more] = decision.ranges;
  if (only && more.length === 0) {
    headers["content-range"] = contentRange(only, meta.length);
    headers["content-length"] = String(only.end - only.start + 1);
    if (head) {
      body.dispose();
      return toldAnswer(null, 206, headers);
    }
    const stream = await body.range(only);
    return stream ? toldAnswer(stream, 206, headers) : null;
  }

  const plan = multipartPlan(decision.ranges, meta.length, meta.contentType, multipartBoundary());
  headers["content-type"] = plan.contentType;
  headers["content-length"] = String(plan.contentLength);
  if (head) {
    body.dispose();
    return toldAnswer(null, 206, headers);
  }
  // Not disposed: a live copy still needs its fill's progress while the parts are read.
  const spans = planReads(decision.ranges);
  return toldAnswer(multipartBody(plan, spans, (r: ByteRange) => body.range(r)), 206, headers);
}

/** As nginx: an error about the representation does not describe it (no validators or type). */
function errorHeaders(h: Fields): Fields {
  for (const name of ["accept-ranges", "etag", "last-modified", "content-type", "cache-control"]) delete h[name];
  return h;
}
