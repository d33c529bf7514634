// Wiring only: the base worker (mod_offload's redirecting side) and its Durable Objects.
import { adminRoutes } from "./admin/routes";
import { offloadBase } from "./base/app";
import { checkTargets } from "./base/target-checks";
import { runFarmChecks } from "./farms/health-checks";

export { ConcurrencyLimiter } from "./limits/concurrency-limiter";
export { HealthRegistry } from "./health/registry";
export { FarmRegistry } from "./farms/registry";
export { OffloadStats } from "./stats/offload-stats";
export { AdminSession } from "./admin/session-store";
export { SignInLimiter } from "./admin/signin-limiter";
export { MirrorInventory } from "./mirrors/inventory";

// The admin sits above the base (it reads farms, health, stats and the store): mounted here.
const app = offloadBase([adminRoutes()]);

export default {
  fetch: app.fetch,
  // Active health checks and mirror scans: Cron Triggers in production; the local stack fires them itself.
  scheduled(_controller: ScheduledController, env: Env, ctx: ExecutionContext) {
    ctx.waitUntil(Promise.all([checkTargets(env), runFarmChecks(env)]));
  },
} satisfies ExportedHandler<Env>;
