import type { NodeConfig } from "../../config/node-config";
import { sha256FromDigestField } from "../../http/digest";
import { dataKey, hex, isStorable, versionOf, type OriginHead, type StoredMeta } from "../meta";
import { discard, headOf, originFetch } from "../origin";
import { R2Tier } from "../tiers/r2-tier";
import { PartWriter } from "./part-writer";
import { Subscriber } from "./subscriber";

/** Late clients get the bytes they missed from the origin only while that is cheap. */
export const LATE_JOIN_ORIGIN_MAX = 8 * 1024 * 1024;

export type FillStart =
  | { ok: true; head: OriginHead & { length: number }; version: string }
  | { ok: false; status: 502 | 504; reason: string; uncacheable?: boolean };

export interface FillHooks {
  /** Persist the multipart upload id so an abandoned fill can be aborted later. */
  uploadStarted(key: string, uploadId: string): Promise<void>;
  finished(): Promise<void>;
}

/**
 * One origin GET of one object, streamed into R2 while every subscribed client gets
 * the same bytes. The object becomes visible (meta pointer) only after its length and
 * SHA-256 have been checked; any failure aborts the upload and leaves nothing readable.
 */
export class FillRun {
  readonly started: Promise<FillStart>;
  readonly finished: Promise<boolean>;
  private received = 0;
  private failed: string | null = null;
  private readonly subscribers = new Set<Subscriber>();
  private resolveFinished!: (ok: boolean) => void;
  meta: StoredMeta | null = null;

  constructor(
    private readonly config: NodeConfig,
    private readonly bucket: R2Bucket,
    private readonly key: string,
    private readonly target: string,
    private readonly hooks: FillHooks,
  ) {
    this.finished = new Promise((r) => (this.resolveFinished = r));
    this.started = this.begin();
  }

  get done(): boolean {
    return this.meta !== null || this.failed !== null;
  }

  failure(): string | null {
    return this.failed;
  }

  private async begin(): Promise<FillStart> {
    const answer = await originFetch(this.config, "GET", this.target, {});
    if (!answer.ok) return this.fail({ ok: false, status: answer.kind === "timeout" ? 504 : 502, reason: answer.reason });
    const res = answer.response;
    if (res.status !== 200 || !res.body) {
      discard(res);
      return this.fail({ ok: false, status: 502, reason: `origin answered ${res.status} to the fill GET` });
    }
    const head = headOf(res);
    if (!isStorable(head)) {
      discard(res);
      return this.fail({ ok: false, status: 502, reason: "origin response has no validator or length", uncacheable: true });
    }
    const version = await versionOf(head);
    // An origin that states the digest (RFC 9530) gets it checked before the copy is visible.
    const claimed = sha256FromDigestField(res.headers.get("repr-digest") ?? res.headers.get("content-digest"));
    // Runs on, independent of any client, until the object is stored or has failed.
    void this.pump(res.body, head, version, claimed);
    return { ok: true, head, version };
  }

  private fail(start: FillStart & { ok: false }): FillStart {
    this.failed = start.reason;
    this.resolveFinished(false);
    void this.hooks.finished();
    return start;
  }

  private async pump(body: ReadableStream<Uint8Array>, head: OriginHead & { length: number }, version: string, claimed: string | undefined): Promise<void> {
    const objectKey = dataKey(this.key, version);
    const writer = new PartWriter(this.bucket, objectKey, (id) => this.hooks.uploadStarted(objectKey, id));
    const digest = new crypto.DigestStream("SHA-256");
    const digestWriter = digest.getWriter();
    // Rejects when the fill is aborted; the failure is reported through `failed` instead.
    digest.digest.catch(() => {});
    const reader = body.getReader();
    let last: { value: Uint8Array; offset: number } | null = null;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (this.received + value.byteLength > head.length) throw new Error(`origin sent more than Content-Length ${head.length}`);
        const offset = this.received;
        this.received += value.byteLength;
        // The last chunk is held back until the copy checks out, so a client of a fill
        // that fails verification sees a short body, never a complete wrong one.
        if (this.received < head.length) this.broadcast(value, offset);
        else last = { value, offset };
        await digestWriter.write(value);
        await writer.append(value);
      }
      if (this.received !== head.length) {
        throw new Error(`origin body ended after ${this.received} of ${head.length} bytes`);
      }
      await digestWriter.close();
      const sha256 = hex(new Uint8Array(await digest.digest));
      if (claimed !== undefined && claimed !== sha256) throw new Error(`SHA-256 ${sha256} differs from the origin's Repr-Digest ${claimed}`);
      await writer.complete();
      const meta: StoredMeta = { key: this.key, version, ...head, sha256, storedAt: Date.now() };
      const r2 = new R2Tier(this.bucket);
      try {
        await r2.commit(meta);
      } catch (e) {
        // The data object is complete but, unless the pointer got written, unreachable:
        // remove it rather than leave it to storage charges (R2 has no orphan sweep).
        const current = await r2.meta(this.key).catch(() => undefined);
        if (current !== undefined && current?.version !== version) await this.bucket.delete(objectKey).catch(() => {});
        throw e;
      }
      this.meta = meta;
      if (last) this.broadcast(last.value, last.offset);
      this.resolveFinished(true);
    } catch (e) {
      this.failed = `fill failed: ${(e as Error).message}`;
      reader.cancel().catch(() => {});
      digestWriter.abort().catch(() => {});
      await writer.abort().catch(() => {});
      this.resolveFinished(false);
    } finally {
      for (const s of this.subscribers) s.end();
      this.subscribers.clear();
      await this.hooks.finished();
    }
  }

  private broadcast(chunk: Uint8Array, offset: number): void {
    for (const s of this.subscribers) s.push(chunk, offset);
  }

  /** A client for the bytes of this fill, from byte 0. */
  subscribe(head: OriginHead & { length: number }): ReadableStream<Uint8Array> {
    const joinAt = this.received;
    const prefix = joinAt > 0 && joinAt <= LATE_JOIN_ORIGIN_MAX && !this.done ? this.prefixFromOrigin(joinAt, head) : null;
    const sub = new Subscriber(
      joinAt,
      prefix,
      {
        finished: this.finished,
        failure: () => this.failed,
        readStored: async (offset) => {
          if (!this.meta) return null;
          if (offset >= this.meta.length) return new ReadableStream({ start: (c) => c.close() });
          const obj = await this.bucket.get(dataKey(this.key, this.meta.version), { range: { offset } });
          return obj?.body ?? null;
        },
      },
      (s) => this.subscribers.delete(s),
    );
    if (this.done) sub.end();
    else this.subscribers.add(sub);
    return sub.stream;
  }

  /** Bytes [0, end) of exactly this version (If-Range, RFC 9110 §13.1.5), streamed lazily. */
  private prefixFromOrigin(end: number, head: OriginHead): ReadableStream<Uint8Array> {
    const { readable, writable } = new IdentityTransformStream();
    const validator = head.etag ?? head.lastModified ?? "";
    void (async () => {
      const answer = await originFetch(this.config, "GET", this.target, { range: `bytes=0-${end - 1}`, "if-range": validator });
      if (!answer.ok || answer.response.status !== 206 || answer.response.headers.get("content-range") !== `bytes 0-${end - 1}/${head.length}`) {
        if (answer.ok) discard(answer.response);
        await writable.abort(new Error("origin could not serve the missed prefix"));
        return;
      }
      await answer.response.body?.pipeTo(writable).catch(() => {});
    })();
    return readable;
  }
}
