/**
 * The base's Cron work on its targets: active checks of the nodes and mirrors, and the
 * mirror scans, both over the mirror catalog's enabled mirrors (added at run time too; a
 * disabled one is neither probed nor scanned), read once per run.
 */
import { parseBaseConfig } from "../config/base-config";
import { runHealthChecks } from "../health/run-checks";
import { enabledMirrors } from "../mirrors/catalog-view";
import { runMirrorScans } from "../mirrors/run-scans";

export async function checkTargets(env: Env): Promise<void> {
  const config = parseBaseConfig(env as unknown as Record<string, unknown>);
  const mirrors = await enabledMirrors(env, config.mirrors);
  await Promise.all([runHealthChecks(env, mirrors), runMirrorScans(env, config, mirrors)]);
}
