import { ConfigError } from "./fields";

/** A configuration parsed from an env, or the ConfigError that names the bad field. */
export type Parsed<T> = ({ ok: true } & T) | { ok: false; error: ConfigError };

/**
 * `parse` runs once per env object (one per isolate and deployment), never per request;
 * its result, or its ConfigError, is kept in `cache`. A WeakMap keyed by env is the only
 * module-level cache we allow: it cannot leak between deployments and holds no
 * per-request or per-client data. Errors other than ConfigError are bugs: they throw.
 */
export function parsedOnce<T extends object>(cache: WeakMap<object, Parsed<T>>, env: object, parse: () => T): Parsed<T> {
  let result = cache.get(env);
  if (!result) {
    try {
      result = { ok: true, ...parse() };
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      result = { ok: false, error: e };
    }
    cache.set(env, result);
  }
  return result;
}
