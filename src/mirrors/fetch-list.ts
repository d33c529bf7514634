/**
 * One conditional GET of a mirror's checksum list (RFC 9110 §13.1.2 If-None-Match,
 * §13.1.3 If-Modified-Since, with the validators its last 200 sent), read up to a size
 * cap: an unchanged list costs the mirror a 304, a huge one is refused, not truncated.
 */
import { timedFetch } from "../platform/timed-fetch";
import { parseChecksumList, type ChecksumList } from "./checksum-list";

export interface ListValidators {
  etag: string | null;
  lastModified: string | null;
}

export type ListAnswer =
  | { kind: "unchanged" }
  | { kind: "new"; list: ChecksumList; validators: ListValidators }
  | { kind: "error"; detail: string };

/** A list is one exchange, longer than one HEAD: this many times the HEAD's deadline, at most a minute. */
const LIST_DEADLINE_FACTOR = 10;

export async function fetchChecksumList(url: string, known: ListValidators, { timeoutMs, maxBytes }: { timeoutMs: number; maxBytes: number }): Promise<ListAnswer> {
  const headers = new Headers();
  if (known.etag) headers.set("if-none-match", known.etag);
  if (known.lastModified) headers.set("if-modified-since", known.lastModified);
  const deadline = Math.min(timeoutMs * LIST_DEADLINE_FACTOR, 60_000);
  // "manual": a list elsewhere is a host nobody configured.
  const answer = await timedFetch(url, { headers, redirect: "manual" }, { timeoutMs: deadline, covers: "exchange" });
  if (!answer.ok) return { kind: "error", detail: answer.kind === "timeout" ? `checksum list: no answer within ${deadline} ms` : "checksum list: cannot connect" };
  const res = answer.response;
  if (res.status === 304) {
    await res.body?.cancel();
    return { kind: "unchanged" };
  }
  if (res.status !== 200) {
    await res.body?.cancel();
    return { kind: "error", detail: `checksum list: HTTP ${res.status}` };
  }
  const text = await readCapped(res, maxBytes);
  if (text === null) return { kind: "error", detail: `checksum list: longer than ${maxBytes} bytes (MIRROR_SCAN_LIST_MAX_BYTES)` };
  return { kind: "new", list: parseChecksumList(text), validators: { etag: res.headers.get("etag"), lastModified: res.headers.get("last-modified") } };
}

/** The body as text, or null (and the rest left unread) once it passes `maxBytes`. */
async function readCapped(res: Response, maxBytes: number): Promise<string | null> {
  const declared = Number(res.headers.get("content-length"));
  if (declared > maxBytes) {
    await res.body?.cancel();
    return null;
  }
  if (!res.body) return "";
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let read = 0;
  let text = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return text + decoder.decode();
    read += value.byteLength;
    if (read > maxBytes) {
      await reader.cancel();
      return null;
    }
    text += decoder.decode(value, { stream: true });
  }
}
