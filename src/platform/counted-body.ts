/**
 * The body bytes a client actually pulled (issue #15 part 1), where the declared
 * Content-Length would count an aborted 64 MiB download in full.
 *
 * Bodies with a length are never copied in JavaScript: a JavaScript pump costs CPU time
 * by the gigabyte (measured: a 768 MiB colo-tier download at 0.37x a bare worker, and on
 * Cloudflare a long download would meet the Worker's CPU limit). They are counted through
 * platform/body-progress.ts in whole parts: a chunked copy (store/chunk-stream.ts) chunk by
 * chunk as its client takes each one, any other body whole or nothing, through one native
 * pipe (the same stage the download guard's lease uses, never a second). So an aborted
 * download counts what its client took, less the part it left in: at most one chunk
 * (CHUNK_SIZE) under, never the declared length.
 *
 * Cheap cases: no body or HEAD (0 bytes), bodies of at most 64 KiB with a Content-Length
 * (counted by that length: they fit in the first socket write), and content-coded bodies
 * (RFC 9110 §8.4: an origin that sent gzip although we asked for identity), counted by
 * their Content-Length (0 without one): workerd hands JavaScript the decoded bytes and
 * would encode them again on the way out.
 *
 * Only a body without a length (a pass-through of a chunked origin answer) is re-streamed
 * by a JavaScript pump, which counts exactly: BYOB reads of at most 64 KiB where the source
 * allows, one read ahead, a chunk counted once its write is taken.
 */
import { progressOf, watchedBody } from "./body-progress";
import { contentCoded, contentLength } from "../http/content-length";
import { factsOf, sameFacts } from "./answer-facts";

/** Bodies up to this size with a Content-Length are counted by their length, unwrapped. */
const COUNT_BY_LENGTH_MAX = 64 * 1024;
/** One BYOB read: big enough for few JavaScript turns per MiB, small enough for RSS per slow client. */
const READ_BYTES = 64 * 1024;

export interface CountedAnswer {
  /** The answer to send: `res` itself, or `res` with its body behind the one native stage that tells its progress (or, without a length, the pump). */
  res: Response;
  /**
   * Body bytes sent: settles once the body ended, failed or was abandoned; never rejects.
   * A number when known at once (no body, a HEAD, a body counted by its length), so the
   * caller can record a small answer now, without a promise and a waitUntil per answer.
   */
  sent: number | Promise<number>;
  /** The declared Content-Length; null when absent or not a plain number (chunked). */
  declared: number | null;
}

/** `res` for a request of `method`, with a promise of the body bytes its client pulls. */
export function countedBody(res: Response, method: string): CountedAnswer {
  // Fields as the answer's maker told them (platform/answer-facts.ts): no reads of its headers on a hit.
  const facts = factsOf(res);
  const declared = contentLength(facts);
  if (!facts.hasBody || method === "HEAD") return { res, sent: 0, declared };
  if (declared !== null && declared <= COUNT_BY_LENGTH_MAX) return { res, sent: declared, declared };
  if (contentCoded(facts)) return { res, sent: declared ?? 0, declared };
  const body = res.body!;
  const known = progressOf(body);
  if (known) return { res, sent: settled(known), declared };
  if (declared !== null) {
    const { readable, progress } = watchedBody(body, declared);
    return { res: sameFacts(res, new Response(readable, res)), sent: settled(progress), declared };
  }
  const pair = new IdentityTransformStream();
  return { res: sameFacts(res, new Response(pair.readable, res)), sent: pump(body, pair.writable), declared };
}

/** The bytes taken once the body ended, failed or was abandoned; never rejects. */
function settled(p: { ended: Promise<void>; taken(): number }): Promise<number> {
  return p.ended.then(p.taken, p.taken);
}

type Read = Promise<ReadableStreamReadResult<Uint8Array>>;

/** A reader of `body` and its one read: BYOB of READ_BYTES when the stream is a byte stream. */
function readerOf(body: ReadableStream<Uint8Array>): { read(): Read; cancel(reason: unknown): Promise<void> } {
  try {
    const byob = body.getReader({ mode: "byob" });
    // A fresh buffer per read: the last one was handed to the writable and is its own now.
    return { read: () => byob.read(new Uint8Array(READ_BYTES)) as Read, cancel: (r) => byob.cancel(r) };
  } catch {
    // A JavaScript stream of the default type: it has no BYOB reader, its chunks are its own.
    const reader = body.getReader();
    return { read: () => reader.read(), cancel: (r) => reader.cancel(r) };
  }
}

/** Copies `body` into `sink`, one read ahead; resolves with the bytes the sink took. */
async function pump(body: ReadableStream<Uint8Array>, sink: WritableStream<Uint8Array>): Promise<number> {
  const reader = readerOf(body);
  const writer = sink.getWriter();
  let sent = 0;
  let next = reader.read();
  // Observed at once: a source that fails while a write waits must not be an unhandled rejection.
  next.catch(() => {});
  try {
    for (;;) {
      const { done, value } = await next;
      if (done) break;
      if (value.byteLength === 0) {
        next = reader.read();
        next.catch(() => {});
        continue;
      }
      const written = writer.write(value);
      next = reader.read();
      next.catch(() => {});
      await written;
      sent += value.byteLength;
    }
    await writer.close();
  } catch (e) {
    // The client left (the write failed) or the source failed: stop both ends.
    reader.cancel(e).catch(() => {});
    writer.abort(e).catch(() => {});
  }
  return sent;
}
