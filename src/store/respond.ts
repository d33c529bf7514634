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

export interface CopyAnswer {
  /** Cache-Status value (RFC 9211) of the answer. */
  cacheStatus: string;
  /** Parts per answer after coalescing (MAX_RANGES, default DEFAULT_MAX_RANGES); more is answered with the whole file. */
  maxRanges?: number;
}

type Fields = Record<string, string>;

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
 * as a ready Headers, so a hot hit builds no field record and no Headers of its own
 * (issue #13). Only the Cache-Status value varies per answer (a hit's ttl, once a second):
 * the fields are made again when it changed. Copied by the Response, so never changed once kept.
 */
const wholeAnswerOf = perIsolate((_meta: StoredMeta) => ({ cacheStatus: "", headers: null as Headers | null }));

function wholeAnswerFields(meta: StoredMeta, cacheStatus: string): Headers | Fields {
  const fields = () => ({ ...representationFields(meta, cacheStatus), "content-length": String(meta.length) });
  if (!isShared(meta)) return fields();
  const kept = wholeAnswerOf(meta);
  if (kept.headers === null || kept.cacheStatus !== cacheStatus) {
    kept.headers = new Headers(fields());
    kept.cacheStatus = cacheStatus;
  }
  return kept.headers;
}

/**
 * Answer a GET/HEAD from a stored copy: RFC 9110 §13 preconditions, then §14 ranges,
 * byte for byte as nginx answers for a static file, except that ranges are coalesced
 * and capped (http/range-coalesce.ts) and a multipart answer reads its parts in as few
 * storage reads as their order allows. Returns null when the copy disappeared between
 * lookup and read (the caller then tries elsewhere).
 */
export async function respondFromCopy(req: Request, copy: StoredCopy, answer: CopyAnswer): Promise<Response | null> {
  const { cacheStatus, maxRanges = DEFAULT_MAX_RANGES } = answer;
  const { meta, body } = copy;
  // Made only for the answers that are not a whole file (those have kept fields, below).
  const fields = () => representationFields(meta, cacheStatus);
  // Read once: each read of a Request's method or headers is a call into the runtime.
  const method = req.method;
  const asked = req.headers;
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
      return new Response(null, { status: 304, headers });
    }
    return plain(412, "precondition failed: If-Match / If-Unmodified-Since did not match the stored copy", errorHeaders(headers));
  }

  const range = ifRangeAllows(asked, validators) ? asked.get("range") : null;
  const decided = decideRange(range, meta.length);
  const decision = decided.kind === "partial" ? shapeRanges(decided.ranges, maxRanges) : decided;

  if (decision.kind === "unsatisfiable") {
    body.dispose();
    const headers = fields();
    headers["content-range"] = unsatisfiedRange(meta.length);
    return plain(416, `range not satisfiable: the file is ${meta.length} bytes`, errorHeaders(headers));
  }

  if (decision.kind === "full") {
    const whole = wholeAnswerFields(meta, cacheStatus);
    if (head) {
      body.dispose();
      return new Response(null, { status: 200, headers: whole });
    }
    const stream = await body.full();
    return stream ? new Response(stream, { status: 200, headers: whole }) : null;
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
      return new Response(null, { status: 206, headers });
    }
    const stream = await body.range(only);
    return stream ? new Response(stream, { status: 206, headers }) : null;
  }

  const plan = multipartPlan(decision.ranges, meta.length, meta.contentType, multipartBoundary());
  headers["content-type"] = plan.contentType;
  headers["content-length"] = String(plan.contentLength);
  if (head) {
    body.dispose();
    return new Response(null, { status: 206, headers });
  }
  // Not disposed: a live copy still needs its fill's progress while the parts are read.
  const spans = planReads(decision.ranges);
  return new Response(multipartBody(plan, spans, (r: ByteRange) => body.range(r)), { status: 206, headers });
}

/** As nginx: an error about the representation does not describe it (no validators or type). */
function errorHeaders(h: Fields): Fields {
  for (const name of ["accept-ranges", "etag", "last-modified", "content-type", "cache-control"]) delete h[name];
  return h;
}
