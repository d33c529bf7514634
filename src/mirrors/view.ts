/**
 * The redirect path's view of the inventory: this isolate's copy of the verdicts per
 * file version, bounded and expiring with the verdicts. It never waits: a file whose
 * verdicts are not known here (or expired) gets them from the MirrorInventory in the
 * background (ctx.waitUntil): each mirror's copies object (copies.ts) HEADs it when it knows nothing.
 * Background rather than inline: the client loses nothing (our nodes hold every file,
 * and without them the base serves it as with no mirror), while an inline HEAD would put
 * a mirror's slowest answer on the redirect path of every file's first request.
 */
import { perIsolate } from "../platform/per-isolate";
import type { CheckRequest, Remembered } from "./inventory";
import { versionKey } from "./verdict";
import { log } from "../platform/log";

interface Entry {
  verdicts: Record<string, Remembered>;
  refreshing: boolean;
}

/** Files per isolate; the oldest entry goes first (as src/base/object-info.ts does). */
const MAX_FILES = 10_000;
const viewOf = perIsolate((_env: object) => new Map<string, Entry>());

/** The standing verdicts of `req.mirrors` this isolate holds for the file; the others are asked for in the background. */
export function knownVerdicts(env: object, ask: (req: CheckRequest) => Promise<Record<string, Remembered>>, req: CheckRequest, ctx: ExecutionContext, now = Date.now()): Record<string, Remembered> {
  const map = viewOf(env);
  const key = `${req.path}\n${versionKey(req.origin)}`;
  let entry = map.get(key);
  if (!entry) {
    if (map.size >= MAX_FILES) map.delete(map.keys().next().value as string);
    entry = { verdicts: {}, refreshing: false };
    map.set(key, entry);
  }
  const standing: Record<string, Remembered> = {};
  for (const m of req.mirrors) {
    const v = entry.verdicts[m.id];
    if (v && v.until > now) standing[m.id] = v;
  }
  const due = req.mirrors.some((m) => !standing[m.id]);
  if (due && !entry.refreshing) {
    const e = entry;
    e.refreshing = true;
    ctx.waitUntil(
      ask(req)
        .then((verdicts) => void (e.verdicts = verdicts))
        .catch((err: unknown) => log.warn("mirror.inventory-unavailable", { path: req.path, error: String(err) }))
        .finally(() => void (e.refreshing = false)),
    );
  }
  return standing;
}

/** Drop this isolate's verdicts (the catalog changed: a rescan or a re-enable must not be answered from here). */
export function forgetKnownVerdicts(env: object): void {
  viewOf(env).clear();
}
