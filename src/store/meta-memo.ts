/**
 * Parsed metas kept per isolate, by the text they were parsed from (a Cache API pointer's
 * header or an R2 pointer's custom metadata). A hot file's hit then parses no JSON (issue
 * #13), and every request for it shares one meta object, so what is built from a meta
 * once (the answer's fields, store/respond.ts) can be kept with it. Shared metas are
 * frozen: no request can change what another one reads.
 */
import { parseMeta, type StoredMeta } from "./meta";

/** Distinct texts kept; the oldest goes first. */
const MAX_METAS = 1000;

export class MetaMemo {
  private readonly byText = new Map<string, Readonly<StoredMeta>>();

  /** The shared meta of `text`, parsed by `parse` only when not kept (null: not a meta, not kept). */
  parse(text: string, parse: (text: string) => StoredMeta | null = parseMeta): Readonly<StoredMeta> | null {
    const kept = this.byText.get(text);
    if (kept) return kept;
    const meta = parse(text);
    if (!meta) return null;
    if (this.byText.size >= MAX_METAS) this.byText.delete(this.byText.keys().next().value!);
    const shared = Object.freeze(meta);
    this.byText.set(text, shared);
    return shared;
  }
}

/** The meta of a pointer's text (null: none, or not a meta): shared through `memo` when there is one, else parsed for this read. */
export function metaOf(text: string | null, memo: MetaMemo | undefined): StoredMeta | null {
  if (!text) return null;
  return memo ? memo.parse(text) : parseMeta(text);
}

/** Whether `meta` is a shared one (MetaMemo's): only those live long enough to keep things for. */
export function isShared(meta: StoredMeta): boolean {
  return Object.isFrozen(meta);
}
