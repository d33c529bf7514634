/**
 * The one way to keep state at module level: `create` runs once per key object and its
 * result is kept in a WeakMap. Keyed by env (one object per isolate and deployment) or
 * by an object parsed once from it (a config, a farm), so nothing outlives its
 * deployment or leaks between deployments, and no per-request data hides in a plain
 * module variable. `args` are read only on the key's first call (they are derived from
 * the same env, so later calls would give the same).
 */
export function perIsolate<K extends object, V, A extends unknown[] = []>(create: (key: K, ...args: A) => V): (key: K, ...args: A) => V {
  const kept = new WeakMap<K, V>();
  return (key, ...args) => {
    const hit = kept.get(key);
    if (hit !== undefined || kept.has(key)) return hit as V;
    const value = create(key, ...args);
    kept.set(key, value);
    return value;
  };
}
