/**
 * Range request decision (RFC 9110 §14.1.2 byte ranges, §14.2 Range,
 * §14.4 Content-Range, §15.3.7 206, §15.5.17 416) with the exact behaviour of
 * nginx's range filter (ngx_http_range_filter_module, checked against nginx
 * 1.22 by scripts/nginx-oracle/check-range.mjs).
 *
 * How nginx reads "Range" (and so do we), in order:
 * - Absent, shorter than 7 characters, or not starting with "bytes="
 *   (ASCII case-insensitive) → ignored, 200 with the whole body. "bytes=" alone
 *   is therefore ignored, not a 416.
 * - After "bytes=", a comma separated list of `first-last`, `first-` or `-suffix`.
 *   Only the space character (not tab) is skipped: before each spec, around the
 *   '-', and before ',' / end of value.
 * - Any syntax error anywhere → 416 (not ignored, unlike RFC 9110 §14.2 which
 *   allows ignoring an invalid Range): `bytes=abc`, `bytes=--1`, `bytes=1-2-3`,
 *   `bytes=-`, an empty element (`bytes=0-1,,2-3`), a trailing comma, a tab, a
 *   number larger than 2^63-1 (off_t overflow).
 * - A spec whose first byte is past its last (`bytes=5-3`) or past the end of
 *   the representation (`bytes=2000-` on 1000 bytes), or `bytes=-0`, selects
 *   nothing and is skipped; it is not an error by itself. `last` beyond the
 *   end is clamped, a suffix longer than the body selects the whole body.
 * - Special case: a spec that selects nothing but starts at byte 0 makes nginx
 *   give up on ranges at once (200 whole body). This only happens for a
 *   zero-length body, where `bytes=0-0`, `bytes=0-`, `bytes=-5` all answer 200
 *   while `bytes=1-2` answers 416.
 * - More than max_ranges non-empty specs → 200 (checked as each spec is read,
 *   so later syntax errors are not seen). max_ranges 0 disables ranges.
 * - If no spec selected anything → 416 with `Content-Range: bytes *\/len`.
 * - Ranges are neither sorted nor merged; duplicates and overlaps are served
 *   as separate parts, unless the sizes of all ranges added up exceed the
 *   length, in which case nginx sends 200 with the whole body (a defence
 *   against many-overlapping-ranges amplification).
 */

export interface ByteRange {
  /** First byte, zero based. */
  start: number;
  /** Last byte, inclusive. */
  end: number;
}

export type RangeDecision =
  | { kind: "full"; reason: string }
  | { kind: "partial"; ranges: ByteRange[] }
  | { kind: "unsatisfiable" };

export interface RangeOptions {
  /** nginx `max_ranges`: undefined = unlimited, 0 = ignore Range entirely. */
  maxRanges?: number;
  /** Counts range-specs read, for tests that bound the work by counting, not timing. */
  steps?: Steps;
}

/** An optional step counter (property tests check "linear" by counting, never by timing). */
export interface Steps {
  count: number;
}

/** Largest off_t (2^63 - 1), the limit of nginx's number parser. */
const MAX_OFF_T_DIGITS = "9223372036854775807";

type NumberRead = { ok: true; value: number; next: number } | { ok: false };

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= "0" && c <= "9";
}

function skipSpaces(s: string, i: number): number {
  let j = i;
  while (s[j] === " ") j++;
  return j;
}

/**
 * Reads a run of ASCII digits at `i`. Fails when there is no digit or the
 * value exceeds 2^63-1. Values above 2^53 lose precision but stay above any
 * real length, which is all the decision needs.
 */
function readNumber(s: string, i: number): NumberRead {
  let j = i;
  while (isDigit(s[j])) j++;
  if (j === i) return { ok: false };
  const digits = s.slice(i, j).replace(/^0+(?=\d)/, "");
  if (
    digits.length > MAX_OFF_T_DIGITS.length ||
    (digits.length === MAX_OFF_T_DIGITS.length && digits > MAX_OFF_T_DIGITS)
  ) {
    return { ok: false };
  }
  return { ok: true, value: Number(digits), next: j };
}

function normaliseMaxRanges(maxRanges: number | undefined): number {
  if (maxRanges === undefined || Number.isNaN(maxRanges) || maxRanges < 0) {
    return Number.POSITIVE_INFINITY;
  }
  return Math.floor(maxRanges);
}

/**
 * Decides how to answer a GET/HEAD for a representation of `length` bytes
 * given the request's Range header (RFC 9110 §14.2), the way nginx does.
 * Preconditions (If-Range, §13.1.5) are evaluated by the caller before this.
 */
export function decideRange(
  rangeHeader: string | null,
  length: number,
  opts?: RangeOptions,
): RangeDecision {
  if (rangeHeader === null) return { kind: "full", reason: "no Range header" };
  if (!Number.isSafeInteger(length) || length < 0) {
    return { kind: "full", reason: "representation length unknown" };
  }
  const maxRanges = normaliseMaxRanges(opts?.maxRanges);
  if (maxRanges === 0) return { kind: "full", reason: "ranges disabled (max_ranges 0)" };
  const s = rangeHeader;
  if (s.length < 7 || s.slice(0, 6).toLowerCase() !== "bytes=") {
    return { kind: "full", reason: "not a bytes range" };
  }

  const ranges: ByteRange[] = [];
  let total = 0;
  let i = 6;
  for (;;) {
    // Each pass reads one spec and moves `i` past it (its inner loops read disjoint
    // characters), so the whole parse is linear in the header's length.
    if (opts?.steps) opts.steps.count++;
    i = skipSpaces(s, i);
    // start/endExclusive of this spec, before clamping decisions below.
    let start: number;
    let endExclusive: number;
    if (s[i] !== "-") {
      const first = readNumber(s, i);
      if (!first.ok) return { kind: "unsatisfiable" };
      i = skipSpaces(s, first.next);
      if (s[i] !== "-") return { kind: "unsatisfiable" };
      i = skipSpaces(s, i + 1);
      start = first.value;
      if (i >= s.length || s[i] === ",") {
        // "first-": to the end (§14.1.2).
        endExclusive = length;
      } else {
        const last = readNumber(s, i);
        if (!last.ok) return { kind: "unsatisfiable" };
        i = skipSpaces(s, last.next);
        if (i < s.length && s[i] !== ",") return { kind: "unsatisfiable" };
        endExclusive = last.value >= length ? length : last.value + 1;
      }
    } else {
      // "-suffix": the last `suffix` bytes (§14.1.2); longer than the body = whole body.
      const suffix = readNumber(s, i + 1);
      if (!suffix.ok) return { kind: "unsatisfiable" };
      i = skipSpaces(s, suffix.next);
      if (i < s.length && s[i] !== ",") return { kind: "unsatisfiable" };
      start = suffix.value < length ? length - suffix.value : 0;
      endExclusive = length; // last = length - 1, or 0 for an empty body
    }

    if (start < endExclusive) {
      ranges.push({ start, end: endExclusive - 1 });
      total += endExclusive - start;
      if (ranges.length > maxRanges) {
        return { kind: "full", reason: `more than ${maxRanges} ranges` };
      }
    } else if (start === 0) {
      return { kind: "full", reason: "empty range at offset 0 (empty body)" };
    }

    if (i >= s.length) break;
    i++; // the ',' checked above
  }

  if (ranges.length === 0) return { kind: "unsatisfiable" };
  if (total > length) {
    return { kind: "full", reason: "ranges add up to more than the length" };
  }
  return { kind: "partial", ranges };
}

/** Content-Range value of a 206 part (RFC 9110 §14.4): "bytes a-b/len". */
export function contentRange(r: ByteRange, length: number): string {
  return `bytes ${r.start}-${r.end}/${length}`;
}

/**
 * The complete length in a Content-Range value (RFC 9110 §14.4): N of "bytes a-b/N" or
 * "bytes *\/N"; undefined when it is "*" (unknown) or the value is not one of those.
 */
export function completeLength(contentRange: string | null): number | undefined {
  const m = /^bytes (?:\d+-\d+|\*)\/(\d{1,16})$/i.exec(contentRange?.trim() ?? "");
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

/** Content-Range value of a 416 (RFC 9110 §14.4, §15.5.17): "bytes *\/len". */
export function unsatisfiedRange(length: number): string {
  return `bytes */${length}`;
}

/**
 * Range header value selecting `ranges` in order (RFC 9110 §14.1.2); inverse of decideRange.
 * @temporary only tests call it until fill/filler.ts and store/cache-tier.ts build their
 * `Range: bytes=a-b` headers with it instead of by hand (issue #13).
 */
export function formatRange(ranges: readonly ByteRange[]): string {
  return "bytes=" + ranges.map((r) => `${r.start}-${r.end}`).join(",");
}
