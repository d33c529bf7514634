import type { HealthRecord, HealthRegistry } from "./registry";

interface CachedView {
  at: number;
  records: Record<string, HealthRecord>;
  refreshing: Promise<void> | null;
}

/** How long an isolate trusts its copy of the health view before refreshing it. */
export const VIEW_TTL_MS = 2000;

// Per env (isolate + deployment) copy of the registry: the only module-level cache,
// in a WeakMap keyed by env. Requests never wait on the registry once a copy exists:
// an old copy is served while a fresh one is fetched in the background.
const views = new WeakMap<object, CachedView>();

export async function healthView(
  env: object,
  registry: DurableObjectStub<HealthRegistry>,
  ctx: ExecutionContext,
  now = Date.now(),
): Promise<Record<string, HealthRecord>> {
  const view = views.get(env);
  if (!view) {
    const records = await registry.snapshot().catch(() => ({}));
    views.set(env, { at: now, records, refreshing: null });
    return records;
  }
  if (now - view.at > VIEW_TTL_MS && !view.refreshing) {
    view.refreshing = registry
      .snapshot()
      .then((records) => {
        view.records = records;
        view.at = Date.now();
      })
      .catch(() => {})
      .finally(() => {
        view.refreshing = null;
      });
    ctx.waitUntil(view.refreshing);
  }
  return view.records;
}

/** Forget the cached view (after this isolate itself changed the registry). */
export function invalidateHealthView(env: object): void {
  views.delete(env);
}
