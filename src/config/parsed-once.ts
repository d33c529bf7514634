import { ConfigError } from "./fields";

/** A configuration parsed from an env, or the ConfigError that names the bad field. */
export type Parsed<T> = ({ ok: true } & T) | { ok: false; error: ConfigError };

/**
 * The result of `parse`, or its ConfigError. Callers run it once per env through
 * platform/per-isolate.ts, never per request. Errors other than ConfigError are bugs:
 * they throw.
 */
export function parsed<T extends object>(parse: () => T): Parsed<T> {
  try {
    return { ok: true, ...parse() };
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return { ok: false, error: e };
  }
}
