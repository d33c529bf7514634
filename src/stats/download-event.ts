/**
 * Download events (issue #15 part 3): one Workers Analytics Engine data point per finished
 * download answer, written when the body ended (or the client left), or per redirect to
 * a mirror, when a DOWNLOAD_EVENTS dataset is bound (wrangler.toml, wrangler.base.toml).
 * Without the binding nothing is built or written. README "Download events" has the SQL.
 *
 *   blob1 path        blob2 status      blob3 Cache-Status class   blob4 colo
 *   blob5 country     blob6 ASN (text)  blob7 node, base or mirror id
 *   blob8 source: copy | origin (bytes we sent) | mirror (a redirect: the mirror sends)
 *   double1 body bytes sent   double2 declared length (Content-Length or file size; 0 unknown)
 *
 * Index (the sampling key): the path. Analytics Engine samples each index value apart,
 * so per-file questions (top files, one file's downloads) stay exact for rarely fetched
 * files when busy ones are sampled; every query weights by _sample_interval, so totals
 * stay right either way. A node index would keep a quiet node exact instead, but nodes
 * are few and the per-node numbers are already exact in the OffloadStats object. An
 * index holds at most 96 bytes: longer paths are cut, which merges them for sampling
 * only (blob1 keeps the whole path).
 */
import { log } from "../platform/log";

export interface DownloadEvent {
  path: string;
  status: number;
  cacheClass: string;
  /** request.cf: the colo (IATA code), the country, the client's AS number; "" when unknown. */
  colo: string;
  country: string;
  asn: string;
  /** The node or base that answered, or the mirror redirected to. */
  target: string;
  source: "copy" | "origin" | "mirror";
  bytes: number;
  declared: number;
}

/** Analytics Engine's limit on an index, in bytes. */
const MAX_INDEX_BYTES = 96;

/**
 * The data point of `e` (pure). Exported for its test: a local dataset takes points but
 * gives none back, so the shape is checked here and the write through the real binding.
 * @internal
 */
export function downloadDataPoint(e: DownloadEvent): AnalyticsEngineDataPoint {
  return {
    indexes: [indexOf(e.path)],
    blobs: [e.path, String(e.status), e.cacheClass, e.colo, e.country, e.asn, e.target, e.source],
    doubles: [e.bytes, e.declared],
  };
}

function indexOf(path: string): string {
  const bytes = new TextEncoder().encode(path);
  if (bytes.length <= MAX_INDEX_BYTES) return path;
  // Cut on a character boundary: a lone half of a UTF-8 sequence would decode to U+FFFD (3 bytes).
  let end = MAX_INDEX_BYTES;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return new TextDecoder().decode(bytes.subarray(0, end));
}

/** The DOWNLOAD_EVENTS dataset of `env`, or null when none is bound. */
export function downloadEvents(env: object): AnalyticsEngineDataset | null {
  const ds = (env as { DOWNLOAD_EVENTS?: Partial<AnalyticsEngineDataset> }).DOWNLOAD_EVENTS;
  return typeof ds?.writeDataPoint === "function" ? (ds as AnalyticsEngineDataset) : null;
}

/**
 * Writes the event (a no-op without the binding); a failure is logged and never reaches the
 * answer. `event` may be a function: it is then called only when a dataset is bound, so an
 * answer that needs nothing else of request.cf (a mirror redirect) does not read it for
 * nothing (workerd builds that object on first access).
 */
export function writeDownloadEvent(env: object, event: DownloadEvent | (() => DownloadEvent)): void {
  const ds = downloadEvents(env);
  if (!ds) return;
  const e = typeof event === "function" ? event() : event;
  try {
    ds.writeDataPoint(downloadDataPoint(e));
  } catch (err) {
    log.error("stats.download-event-failed", { path: e.path, error: String(err) });
  }
}

/** What request.cf says of the client, as text; "" for what it does not say (local runs, tests). */
export function cfOf(req: Request): { colo: string; country: string; asn: string } {
  const cf = req.cf as { colo?: unknown; country?: unknown; asn?: unknown } | undefined;
  const text = (v: unknown) => (typeof v === "string" || typeof v === "number" ? String(v) : "");
  return { colo: text(cf?.colo), country: text(cf?.country), asn: text(cf?.asn) };
}
