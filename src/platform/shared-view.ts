/**
 * A per-isolate copy of a Durable Object's state, for hot paths that must not wait on
 * the object per request: the first call loads it, later calls get the copy at once,
 * and a copy older than `ttlMs` is refreshed in the background (stale-while-revalidate).
 * Kept per env (isolate + deployment, per-isolate.ts); one entry per view name.
 */
import { perIsolate } from "./per-isolate";
import type { Soon } from "./soon";

interface Entry<T> {
  at: number;
  value: T;
  refreshing: Promise<void> | null;
}

const viewsOf = perIsolate((_env: object) => new Map<string, Entry<unknown>>());

/**
 * `empty`: what to balance on when the first load fails; a function, so hot paths build
 * nothing once the view is loaded. The copy itself once loaded, not a promise of it: a hot
 * path that has it goes on without awaiting (an await is a suspension and a microtask per
 * request, issue #13); only the first call waits for the load.
 */
export function sharedView<T>(env: object, name: string, load: () => Promise<T>, ctx: ExecutionContext, ttlMs: number, empty: () => T, now = Date.now()): Soon<T> {
  const byName = viewsOf(env);
  const entry = byName.get(name) as Entry<T> | undefined;
  if (!entry) {
    // An object that cannot answer must not fail the request: balance on the defaults.
    return (async () => {
      const value = await load().catch(empty);
      byName.set(name, { at: now, value, refreshing: null });
      return value;
    })();
  }
  if (now - entry.at > ttlMs && !entry.refreshing) {
    entry.refreshing = load()
      .then((value) => {
        entry.value = value;
        entry.at = Date.now();
      })
      .catch(() => {})
      .finally(() => {
        entry.refreshing = null;
      });
    ctx.waitUntil(entry.refreshing);
  }
  return entry.value;
}

/** Forget a view (after this isolate itself changed the object): the next call reloads it. */
export function invalidateView(env: object, name: string): void {
  viewsOf(env).delete(name);
}
