/**
 * What the node does with the ranges decideRange (nginx's reading) selected, before it
 * serves them: coalesce, cap, and plan the storage reads. A separate pure step so that
 * decideRange stays nginx's behaviour, checked against a real nginx, and the differences
 * are all here (test/node/nginx-parity.test.ts maps them explicitly).
 *
 * Why (issue #11 M3): nginx serves every range of a Range header as its own part, and
 * the node read each part from storage separately, so `bytes=0-0,2-2,4-4,…` with 1,000
 * ranges cost 1,000 billed R2 reads for one request.
 */

import type { ByteRange, Steps } from "./range";

/**
 * Ranges closer than this are served as one (RFC 9110 §15.3.7.2 allows coalescing ranges
 * "separated by a gap that is smaller than the overhead of sending multiple parts"): a part
 * head is CRLF "--" 20-digit boundary CRLF, a Content-Type line and a Content-Range line,
 * about 80 bytes, so sending the gap bytes costs no more than framing another part.
 */
export const COALESCE_GAP_BYTES = 80;

/**
 * Gap bytes one storage read may stream and drop between two ascending parts, instead
 * of starting a second read: 256 KiB is a few milliseconds of an R2 or Cache API read,
 * cheaper than another request's latency, and small next to the parts themselves.
 */
export const MAX_SKIP_BYTES = 256 * 1024;

/**
 * Merges overlapping ranges and ranges less than `gap` bytes apart (RFC 9110 §15.3.7.2).
 * Every merged range takes the place of the earliest range it absorbed, so parts keep
 * the order in which the client asked for them ("the same order that the corresponding
 * range-spec appeared ... excluding those ... coalesced into other ranges").
 * O(n log n): one sort by start, one sweep, one sort of what is left by position.
 */
export function coalesceRanges(ranges: readonly ByteRange[], gap = COALESCE_GAP_BYTES, steps?: Steps): ByteRange[] {
  const count = () => {
    if (steps) steps.count++;
  };
  const byStart = ranges.map((r, at) => ({ start: r.start, end: r.end, at }));
  byStart.sort((a, b) => (count(), a.start - b.start || a.at - b.at));
  const merged: Array<{ start: number; end: number; at: number }> = [];
  for (const r of byStart) {
    count();
    const last = merged[merged.length - 1];
    // r.start - last.end - 1 bytes lie between them (negative: they overlap).
    if (last && r.start - last.end - 1 < gap) {
      last.end = Math.max(last.end, r.end);
      last.at = Math.min(last.at, r.at);
    } else {
      merged.push({ ...r });
    }
  }
  merged.sort((a, b) => (count(), a.at - b.at));
  return merged.map(({ start, end }) => ({ start, end }));
}

export type ShapedRanges = { kind: "partial"; ranges: ByteRange[] } | { kind: "full"; reason: string };

/**
 * Coalesce, then cap at `maxRanges` parts, like nginx's `max_ranges`. Above the cap the
 * answer is 200 with the whole file, as nginx does: a client asking for more pieces than
 * that is better served by one sequential read than by a fan of small ones, and the cost
 * of an answer no longer grows with the number of ranges asked for. The cap is the
 * caller's (MAX_RANGES, config/node-config.ts): this module has no default of its own.
 */
export function shapeRanges(ranges: readonly ByteRange[], maxRanges: number, steps?: Steps): ShapedRanges {
  const parts = coalesceRanges(ranges, COALESCE_GAP_BYTES, steps);
  if (parts.length > maxRanges) return { kind: "full", reason: `more than ${maxRanges} ranges after coalescing` };
  return { kind: "partial", ranges: parts };
}

/** One storage read covering parts[first .. first+count-1], which lie in ascending order in it. */
export interface ReadSpan {
  start: number;
  end: number;
  first: number;
  count: number;
}

/**
 * Storage reads for the parts of a multipart answer, in answer order: consecutive parts
 * that ascend (coalesced parts never overlap) with at most `maxSkip` bytes between them
 * share one read of the span that covers them, the gaps streamed through and dropped, so
 * memory stays at one chunk. Parts that go backwards, or lie far apart, start a new read.
 * Linear in the number of parts.
 */
export function planReads(parts: readonly ByteRange[], maxSkip = MAX_SKIP_BYTES, steps?: Steps): ReadSpan[] {
  const spans: ReadSpan[] = [];
  let span: ReadSpan | undefined;
  parts.forEach((p, i) => {
    if (steps) steps.count++;
    if (span && p.start > span.end && p.start - span.end - 1 <= maxSkip) {
      span.end = p.end;
      span.count++;
    } else {
      span = { start: p.start, end: p.end, first: i, count: 1 };
      spans.push(span);
    }
  });
  return spans;
}
