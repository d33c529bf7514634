import { DurableObject } from "cloudflare:workers";
import { countEvent } from "../stats/recorder";
import { step, unchecked, type CheckResult, type RiseFallState, type Thresholds, type Wording } from "./rise-fall";
import { log } from "../platform/log";

/** A target's health (reason: for logs and the admin page) and its last reported load. */
export interface HealthRecord extends RiseFallState {
  load?: number;
}

export interface Transition {
  id: string;
  at: number;
  healthy: boolean;
  reason: string;
}

export interface Observation extends CheckResult {
  id: string;
  load?: number;
}

const STATE = "state";
const HISTORY = "history";
const HISTORY_MAX = 200;

const WORDS: Wording = (healthy, count, check) => (healthy ? `up: ${count} good ${check.source} checks` : `down: ${count} failed checks (${check.detail})`);

/**
 * One consistent view of target health for every isolate of the base. Targets start
 * healthy (a fresh deploy must not refuse to offload); `fall` consecutive failures
 * mark one down and `rise` consecutive successes bring it back (rise-fall.ts).
 */
export class HealthRegistry extends DurableObject<Env> {
  async snapshot(): Promise<Record<string, HealthRecord>> {
    return (await this.ctx.storage.get<Record<string, HealthRecord>>(STATE)) ?? {};
  }

  async history(): Promise<Transition[]> {
    return (await this.ctx.storage.get<Transition[]>(HISTORY)) ?? [];
  }

  async observe(observations: Observation[], thresholds: Thresholds): Promise<Transition[]> {
    const state = await this.snapshot();
    const now = Date.now();
    const transitions: Transition[] = [];
    for (const o of observations) {
      const { state: r, flip } = step<HealthRecord>(state[o.id] ?? unchecked(now), { ...o, at: now }, { ...thresholds, words: WORDS });
      if (o.load !== undefined) r.load = o.load;
      state[o.id] = r;
      if (flip) transitions.push({ id: o.id, ...flip });
    }
    await this.ctx.storage.put(STATE, state);
    if (transitions.length > 0) {
      const history = [...(await this.history()), ...transitions].slice(-HISTORY_MAX);
      await this.ctx.storage.put(HISTORY, history);
      for (const t of transitions) {
        log.info("health.transition", { ...t });
        countEvent(this.env, this.ctx, { name: "offload_health_transitions_total", labels: { registry: "targets", to: t.healthy ? "up" : "down" } });
      }
    }
    return transitions;
  }
}
