import { parseBaseConfig } from "../config/base-config";
import { probeAll } from "./active-check";
import type { Transition } from "./registry";

/** One round of active checks over every configured node and mirror. */
export async function runHealthChecks(env: Env): Promise<Transition[]> {
  const config = parseBaseConfig(env as unknown as Record<string, unknown>);
  const observations = await probeAll([...config.nodes, ...config.mirrors], config.health.timeoutMs);
  const registry = env.HEALTH.get(env.HEALTH.idFromName("registry"));
  return registry.observe(observations, { rise: config.health.rise, fall: config.health.fall });
}
