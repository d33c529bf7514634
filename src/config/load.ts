import { ConfigError, parseNodeConfig, type NodeConfig } from "./node-config";

import { parseSigningKeys, type SigningKey } from "../signing/redirect-token";

import { responseThrottle, type ResponseThrottle } from "../throttle";

export type ConfigResult =
  | { ok: true; config: NodeConfig; keys: SigningKey[]; throttle: ResponseThrottle | null }
  | { ok: false; error: ConfigError };

// Parsed once per env object (one per isolate and deployment), never per request.
// A WeakMap keyed by env is the only module-level cache we allow: it cannot leak
// between deployments and holds no per-request or per-client data.
const parsed = new WeakMap<object, ConfigResult>();

export function loadConfig(env: object): ConfigResult {
  let result = parsed.get(env);
  if (!result) {
    try {
      const config = parseNodeConfig(env as Record<string, unknown>);
      const { keys, errors } = parseSigningKeys(config.signingKeys);
      if (errors.length) throw new ConfigError("SIGNING_KEYS", errors.join("; "));
      if (config.requireSignedUrls && keys.length === 0) throw new ConfigError("SIGNING_KEYS", "REQUIRE_SIGNED_URLS needs at least one key");
      let throttle: ResponseThrottle | null = null;
      try {
        if (config.throttle !== null) throttle = responseThrottle(config.throttle, config.throttleBurstBytes);
      } catch (e) {
        throw new ConfigError("THROTTLE", (e as Error).message);
      }
      result = { ok: true, config, keys, throttle };
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      result = { ok: false, error: e };
    }
    parsed.set(env, result);
  }
  return result;
}

/** For Durable Objects, which have no way to answer a request with the error. */
export function requireConfig(env: object): NodeConfig {
  const r = loadConfig(env);
  if (!r.ok) throw r.error;
  return r.config;
}
