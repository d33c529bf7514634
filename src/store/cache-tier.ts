/**
 * The per-colo hot tier on the Cache API. A version is a pointer entry (its meta in a
 * header; the whole body inline when the file fits in one chunk, so a small file is one
 * match as before) plus one entry per chunk named like its R2 object. Chunk names carry
 * version and fill id, so bytes of two versions or two fills never mix, and any file
 * size is colo-hot: each entry is one chunk, far below the 512 MB entry limit.
 */
import { chunkCount, isChunked } from "./layout";
import { sameFill, type StoredMeta } from "./meta";
import { metaOf, type MetaMemo } from "./meta-memo";

const ORIGIN = "https://offload-node.cache.invalid";
/**
 * A chunk entry's version and fill (JSON); a pointer's `<stamp> <i|-> <meta JSON>`: the
 * purge-log generation it was learnt under (purge-log.ts), whether the body is inline,
 * and the meta. One field, so a hit reads one header of the pointer, not three (issue #13).
 */
const META_HEADER = "x-offload-meta";
/** Pointers put before the one-field form carry the meta JSON alone and these two (an absent stamp = 0). */
const LEGACY_INLINE_HEADER = "x-offload-inline";
const LEGACY_STAMP_HEADER = "x-offload-purge-gen";
const YEAR = 31_536_000;
/** A colo warms a chunk once per this many seconds, however many clients miss it together. */
const WARMING_SECONDS = 60;

const pointerUrl = (key: string) => `${ORIGIN}/p${key}`;
const markerUrl = (key: string) => `${ORIGIN}/validated${key}`;
const chunkUrl = (m: StoredMeta, i: number) => `${ORIGIN}/c/${m.version}-${m.fill ?? "data"}/${i}${m.key}`;
const warmingUrl = (m: StoredMeta, i: number) => `${ORIGIN}/w/${m.version}-${m.fill ?? "data"}/${i}${m.key}`;

export interface PointerHit {
  meta: StoredMeta;
  /** The whole body when the pointer carries it inline; taken once. */
  body: ReadableStream<Uint8Array> | null;
  /** The purge-log generation the pointer was put under. */
  stamp: number;
}

export class CacheTier {
  /** `memo`: this isolate's shared metas (a hot file's pointer is then parsed once). */
  constructor(
    private readonly cache: Cache,
    private readonly memo?: MetaMemo,
  ) {}

  async pointer(key: string): Promise<PointerHit | null> {
    const res = await this.cache.match(pointerUrl(key));
    if (!res) return null;
    // Read once: each read of a Response's headers or body is a call into the runtime (issue #13).
    const body = res.body;
    const fields = pointerFields(res.headers);
    const meta = fields && metaOf(fields.text, this.memo);
    if (!fields || !meta || meta.key !== key) {
      body?.cancel().catch(() => {});
      return null;
    }
    if (!fields.inline) {
      body?.cancel().catch(() => {});
      return { meta, body: null, stamp: fields.stamp };
    }
    return { meta, body, stamp: fields.stamp };
  }

  /** Bytes [from, to) of the inline body of `meta`'s pointer, or null. */
  async inlineRange(meta: StoredMeta, from: number, to: number): Promise<ReadableStream<Uint8Array> | null> {
    return this.matchPart(pointerUrl(meta.key), meta, from, to, meta.length);
  }

  /**
   * The pointer makes the version visible in this colo; `body` only for a one-chunk file.
   * `stamp`: the purge-log generation known before the R2 read that found `meta`.
   */
  async putPointer(meta: StoredMeta, body: ReadableStream<Uint8Array> | Uint8Array | null, stamp = 0): Promise<void> {
    const headers = { "cache-control": `public, max-age=${YEAR}`, [META_HEADER]: `${stamp} ${body !== null ? "i" : "-"} ${JSON.stringify(meta)}` };
    await this.cache.put(pointerUrl(meta.key), new Response(body ?? "", { headers }));
  }

  async chunk(meta: StoredMeta, index: number, from: number, to: number, chunkLength: number): Promise<ReadableStream<Uint8Array> | null> {
    return this.matchPart(chunkUrl(meta, index), meta, from, to, chunkLength);
  }

  async putChunk(meta: StoredMeta, index: number, bytes: Uint8Array | ReadableStream<Uint8Array>, length: number): Promise<void> {
    const headers = new Headers({ "cache-control": `public, max-age=${YEAR}`, "content-length": String(length), [META_HEADER]: JSON.stringify({ version: meta.version, fill: meta.fill }) });
    await this.cache.put(chunkUrl(meta, index), new Response(bytes, { headers }));
  }

  async deleteChunk(meta: StoredMeta, index: number): Promise<void> {
    await this.cache.delete(chunkUrl(meta, index));
  }

  /**
   * Claims the warming of one chunk in this colo: false when another request claimed it
   * within WARMING_SECONDS. Not atomic (the Cache API has no put-if-absent), so a burst
   * may warm a chunk a few times, never once per client.
   */
  async claimWarming(meta: StoredMeta, index: number): Promise<boolean> {
    if (await this.cache.match(warmingUrl(meta, index))) return false;
    await this.markWarming(meta, index);
    return true;
  }

  /** Claims the warming of a chunk whatever is there: its filler is putting it right now. */
  async markWarming(meta: StoredMeta, index: number): Promise<void> {
    await this.cache.put(warmingUrl(meta, index), new Response("", { headers: { "cache-control": `public, max-age=${WARMING_SECONDS}` } }));
  }

  /** Remember that the origin confirmed this version, for REVALIDATE_SECONDS. */
  async markValidated(key: string, version: string, seconds: number): Promise<void> {
    if (seconds <= 0) return;
    await this.cache.put(markerUrl(key), new Response(version, { headers: { "cache-control": `public, max-age=${seconds}` } }));
  }

  async validatedRecently(key: string, version: string): Promise<boolean> {
    const r = await this.cache.match(markerUrl(key));
    return r !== undefined && (await r.text()) === version;
  }

  /**
   * Forgets `meta`'s version in this colo (pointer and chunk entries), when this colo's
   * pointer still names exactly it: a pointer a newer lookup has already put is kept. The
   * Cache API has no conditional delete, so a put racing this check may be lost; the
   * next lookup then learns R2's pointer again.
   */
  async dropPointer(meta: StoredMeta): Promise<void> {
    const hit = await this.pointer(meta.key);
    hit?.body?.cancel().catch(() => {});
    if (!hit || !sameFill(hit.meta, meta)) return;
    await this.purge(meta.key, meta);
  }

  /** This colo's entries of `key`; with the meta, its chunk entries (and warming claims) too. */
  async purge(key: string, meta: StoredMeta | null): Promise<void> {
    const urls = [pointerUrl(key), markerUrl(key)];
    if (meta && isChunked(meta)) {
      // The warming claims too: a colo that forgot the chunks warms them again at once.
      for (let i = 0; i < chunkCount(meta.length, meta.chunkSize); i++) urls.push(chunkUrl(meta, i), warmingUrl(meta, i));
    }
    for (let i = 0; i < urls.length; i += 50) await Promise.all(urls.slice(i, i + 50).map((u) => this.cache.delete(u)));
  }

  /** Range [from, to) of an entry of `total` bytes that must belong to `meta`'s version. */
  private async matchPart(url: string, meta: StoredMeta, from: number, to: number, total: number): Promise<ReadableStream<Uint8Array> | null> {
    const whole = from === 0 && to === total;
    const r = await this.cache.match(whole ? url : new Request(url, { headers: { range: `bytes=${from}-${to - 1}` } }));
    if (!r) return null;
    const seen = fillOf(r.headers.get(META_HEADER));
    const ok = seen !== null && sameFill(seen, meta) && (whole ? r.status === 200 : r.status === 206 && r.headers.get("content-range") === `bytes ${from}-${to - 1}/${total}`);
    if (!ok) {
      r.body?.cancel().catch(() => {});
      return null;
    }
    return r.body;
  }
}

/** The version and fill an entry names (a chunk's header carries only these; a pointer's, its whole meta). */
function fillOf(value: string | null): Pick<StoredMeta, "version" | "fill"> | null {
  // A chunk entry's JSON, or a pointer's (its inline body read by range): the JSON part of either form.
  const text = value?.startsWith("{") ? value : pointerFieldsOf(value)?.text;
  if (!text) return null;
  try {
    return JSON.parse(text) as Pick<StoredMeta, "version" | "fill">;
  } catch {
    return null;
  }
}

/** A pointer's meta text, stamp and inline flag, in the one-field form or the legacy one; null when not a pointer. */
function pointerFields(headers: Headers): PointerFields | null {
  const value = headers.get(META_HEADER);
  if (value?.startsWith("{")) {
    return { text: value, stamp: Number(headers.get(LEGACY_STAMP_HEADER) ?? 0) || 0, inline: headers.get(LEGACY_INLINE_HEADER) === "1" };
  }
  return pointerFieldsOf(value);
}

interface PointerFields {
  text: string;
  stamp: number;
  inline: boolean;
}

/** The one-field form `<stamp> <i|-> <meta JSON>`; null when `value` is not one. */
function pointerFieldsOf(value: string | null | undefined): PointerFields | null {
  if (!value) return null;
  const first = value.indexOf(" ");
  const second = value.indexOf(" ", first + 1);
  if (first < 0 || second < 0) return null;
  return { text: value.slice(second + 1), stamp: Number(value.slice(0, first)) || 0, inline: value.slice(first + 1, second) === "i" };
}
