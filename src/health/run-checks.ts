import { parseBaseConfig } from "../config/base-config";
import type { TargetSpec } from "../config/targets";
import { probeAll } from "./active-check";
import type { Transition } from "./registry";

/**
 * One round of active checks over every configured node and mirror. `mirrors`: the
 * runtime catalog's enabled mirrors when the caller has it (base/target-checks.ts), else MIRRORS.
 */
export async function runHealthChecks(env: Env, mirrors?: TargetSpec[]): Promise<Transition[]> {
  const config = parseBaseConfig(env as unknown as Record<string, unknown>);
  const observations = await probeAll([...config.nodes, ...(mirrors ?? config.mirrors)], config.health.timeoutMs);
  const registry = env.HEALTH.get(env.HEALTH.idFromName("registry"));
  return registry.observe(observations, { rise: config.health.rise, fall: config.health.fall });
}
