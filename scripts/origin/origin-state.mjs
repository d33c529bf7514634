/**
 * Observable state of the static origin: request counters, the recent-request log
 * and per-path misbehaviours. Tests read it through the control API to prove what
 * actually reached the origin (e.g. "ten clients, one origin GET").
 */

/** How many recent requests are kept; enough for a test, bounded for a long demo run. */
const RECENT_MAX = 200;

/** @typedef {{ gets: number, heads: number, rangeGets: number, conditional304s: number, bodyBytes: number }} Counters */

/** @returns {Counters} */
function zero() {
  return { gets: 0, heads: 0, rangeGets: 0, conditional304s: 0, bodyBytes: 0 };
}

/**
 * @typedef {object} Behaviour
 * @property {number} [status] answer GET/HEAD with this status and a short body
 * @property {number} [delayMs] wait this long before sending headers
 * @property {boolean} [noValidators] omit ETag and Last-Modified
 * @property {boolean} [noLength] send the body chunked, without Content-Length
 * @property {string} [cacheControl] send this Cache-Control
 * @property {number} [bytesPerSecond] throttle the body
 * @property {number} [dieAfterBytes] destroy the socket after this many body bytes
 * @property {number} [replaceAfterBytes] after this many body bytes, replace the file on disk
 *   with a pattern file (replaceSeed, replaceMtime, same size unless replaceSize): a new
 *   version appears mid-download, while this answer keeps streaming (or dies with) the old bytes
 * @property {string} [replaceSeed]
 * @property {number} [replaceMtime]
 * @property {number} [replaceSize]
 * @property {number} [stallAfterBytes] stop sending after this many body bytes and keep the
 *   connection open until the client leaves (an origin hung mid-body)
 * @property {boolean} [once] remove the behaviour once dieAfterBytes, stallAfterBytes or
 *   replaceAfterBytes fired, so the next request (a resume) meets a healthy origin
 */

export class OriginState {
  constructor() {
    this.reset();
  }

  reset() {
    /** @type {Counters} */
    this.total = zero();
    /** @type {Map<string, Counters>} */
    this.paths = new Map();
    /** @type {object[]} */
    this.recent = [];
    /** @type {Map<string, Behaviour>} */
    this.behaviours = new Map();
  }

  /** Counters for a normalised path, created on first use. */
  counters(norm) {
    let c = this.paths.get(norm);
    if (!c) this.paths.set(norm, (c = zero()));
    return c;
  }

  /** Add to one counter for the path and for the total. */
  bump(norm, field, n = 1) {
    this.counters(norm)[field] += n;
    this.total[field] += n;
  }

  /**
   * Record a request in the recent log; the returned entry is filled in later
   * (status, bodyBytes) as the response progresses.
   * @param {import("node:http").IncomingMessage} req
   * @param {string} norm
   */
  log(req, norm) {
    const h = req.headers;
    const entry = {
      time: new Date().toISOString(),
      method: req.method,
      path: norm,
      url: req.url,
      range: h.range ?? null,
      ifRange: h["if-range"] ?? null,
      ifNoneMatch: h["if-none-match"] ?? null,
      ifModifiedSince: h["if-modified-since"] ?? null,
      userAgent: h["user-agent"] ?? null,
      hasCookie: h.cookie !== undefined,
      hasAuthorization: h.authorization !== undefined,
      // Raw names in arrival order: lets tests check exactly what the node forwarded.
      headerNames: req.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase()),
      status: null,
      bodyBytes: 0,
    };
    this.recent.push(entry);
    if (this.recent.length > RECENT_MAX) this.recent.splice(0, this.recent.length - RECENT_MAX);
    return entry;
  }

  /** Stats document: everything, or one path (counters are zero for unseen paths). */
  stats(norm) {
    if (norm === undefined) {
      return { ...this.total, paths: Object.fromEntries(this.paths), recent: this.recent };
    }
    return { path: norm, ...(this.paths.get(norm) ?? zero()), recent: this.recent.filter((e) => e.path === norm) };
  }
}

/**
 * Parse `/behave` query parameters into a Behaviour (replacing any earlier one for the path).
 * @param {URLSearchParams} q
 * @returns {Behaviour}
 */
export function parseBehaviour(q) {
  /** @type {Behaviour} */
  const b = {};
  const int = (name, min, max) => {
    const v = q.get(name);
    if (v === null) return undefined;
    if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new Error(`${name} must be an integer in ${min}..${max}`);
    return Number(v);
  };
  const flag = (name) => ["1", "true", "yes"].includes(q.get(name) ?? "");
  b.status = int("status", 200, 599);
  b.delayMs = int("delayMs", 0, 600_000);
  b.bytesPerSecond = int("bytesPerSecond", 1, Number.MAX_SAFE_INTEGER);
  b.dieAfterBytes = int("dieAfterBytes", 0, Number.MAX_SAFE_INTEGER);
  b.stallAfterBytes = int("stallAfterBytes", 0, Number.MAX_SAFE_INTEGER);
  b.replaceAfterBytes = int("replaceAfterBytes", 0, Number.MAX_SAFE_INTEGER);
  b.replaceSeed = q.get("replaceSeed") ?? undefined;
  b.replaceMtime = int("replaceMtime", 0, 2 ** 40);
  b.replaceSize = int("replaceSize", 0, Number.MAX_SAFE_INTEGER);
  b.once = flag("once");
  b.noValidators = flag("noValidators");
  b.noLength = flag("noLength");
  // Sent verbatim as Repr-Digest (RFC 9530), e.g. a wrong one to test integrity checks.
  b.reprDigest = q.get("reprDigest") ?? undefined;
  // Sent verbatim as Cache-Control (e.g. one too long for a stored copy's metadata).
  b.cacheControl = q.get("cacheControl") ?? undefined;
  // With status=3xx: the Location the origin sends (to test rewriting by proxies).
  b.location = q.get("location") ?? undefined;
  for (const k of Object.keys(b)) if (b[k] === undefined || b[k] === false) delete b[k];
  return b;
}
