import { ConfigError, parseNodeConfig, type NodeConfig } from "../config/node-config";
import { parsed, type Parsed } from "../config/parsed-once";
import { perIsolate } from "../platform/per-isolate";
import { log } from "../platform/log";

import { parseSigningKeys, type SigningKey } from "../signing/redirect-token";

import { responseThrottle, type ResponseThrottle } from "../throttle";

export type ConfigResult = Parsed<{ config: NodeConfig; keys: SigningKey[]; throttle: ResponseThrottle | null }>;

/** The node's whole config, parsed once per env (never per request), or the ConfigError naming the field. */
export const loadConfig = perIsolate((env: object): ConfigResult => {
  const loaded = parsed(() => {
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
    return { config, keys, throttle };
  });
  // Once per isolate, not per request: every answer names the field until it is fixed.
  if (!loaded.ok) log.error("config.invalid", { field: loaded.error.field, error: loaded.error.message });
  return loaded;
});
