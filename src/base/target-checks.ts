/**
 * The Cron's active checks of the base's targets: the nodes and the mirror catalog's
 * enabled mirrors (added at run time too; a disabled one is not probed). Read from the
 * MirrorInventory itself, not an isolate's view: the Cron runs once a minute.
 */
import { parseBaseConfig } from "../config/base-config";
import type { TargetSpec } from "../config/targets";
import { runHealthChecks } from "../health/run-checks";
import type { Transition } from "../health/registry";
import type { Catalog } from "../mirrors/catalog";
import { inventoryOf } from "../mirrors/catalog-view";

export async function checkTargets(env: Env): Promise<Transition[]> {
  const config = parseBaseConfig(env as unknown as Record<string, unknown>);
  let mirrors: TargetSpec[];
  try {
    const catalog = (await inventoryOf(env).catalog(config.mirrors)) as Catalog;
    mirrors = catalog.mirrors.filter((m) => m.enabled).map((m) => m.spec);
  } catch (e) {
    // The nodes' checks must not wait on the inventory: check the seed instead.
    console.error(JSON.stringify({ msg: "mirror catalog unavailable for health checks", error: String(e) }));
    mirrors = config.mirrors;
  }
  return runHealthChecks(env, mirrors);
}
