import { sharedView } from "../platform/shared-view";
import type { HealthRecord, HealthRegistry } from "./registry";
import type { Soon } from "../platform/soon";

/** How long an isolate trusts its copy of the health view before refreshing it. */
export const VIEW_TTL_MS = 2000;

/** The HealthRegistry's records as this isolate last saw them (at most VIEW_TTL_MS old, refreshed in the background). */
/** `registry`: a function, so the stub is made only when the view loads (not on every redirect). */
export function healthView(env: object, registry: () => DurableObjectStub<HealthRegistry>, ctx: ExecutionContext, now = Date.now()): Soon<Record<string, HealthRecord>> {
  return sharedView(env, "health", () => registry().snapshot(), ctx, VIEW_TTL_MS, () => ({}), now);
}
