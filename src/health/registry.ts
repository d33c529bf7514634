import { DurableObject } from "cloudflare:workers";

export interface HealthRecord {
  healthy: boolean;
  /** Why it is down (or the last failure), for logs and the admin page. */
  reason: string;
  successes: number;
  failures: number;
  load?: number;
  checkedAt: number;
  changedAt: number;
}

export interface Transition {
  id: string;
  at: number;
  healthy: boolean;
  reason: string;
}

export interface Observation {
  id: string;
  ok: boolean;
  detail: string;
  load?: number;
  /** "active" (a probe) or "passive" (a failure seen while serving). */
  source: "active" | "passive";
}

const STATE = "state";
const HISTORY = "history";
const HISTORY_MAX = 200;

/**
 * One consistent view of target health for every isolate of the base. Targets start
 * healthy (a fresh deploy must not refuse to offload); `fall` consecutive failures
 * mark one down and `rise` consecutive successes bring it back, as in HAProxy.
 */
export class HealthRegistry extends DurableObject<Env> {
  async snapshot(): Promise<Record<string, HealthRecord>> {
    return (await this.ctx.storage.get<Record<string, HealthRecord>>(STATE)) ?? {};
  }

  async history(): Promise<Transition[]> {
    return (await this.ctx.storage.get<Transition[]>(HISTORY)) ?? [];
  }

  async observe(observations: Observation[], thresholds: { rise: number; fall: number }): Promise<Transition[]> {
    const state = await this.snapshot();
    const now = Date.now();
    const transitions: Transition[] = [];
    for (const o of observations) {
      const r = state[o.id] ?? { healthy: true, reason: "", successes: 0, failures: 0, checkedAt: 0, changedAt: now };
      r.checkedAt = now;
      if (o.load !== undefined) r.load = o.load;
      if (o.ok) {
        r.successes += 1;
        r.failures = 0;
        if (!r.healthy && r.successes >= thresholds.rise) transitions.push(this.flip(r, o.id, true, `up: ${r.successes} good ${o.source} checks`, now));
      } else {
        r.failures += 1;
        r.successes = 0;
        r.reason = `${o.source}: ${o.detail}`;
        if (r.healthy && r.failures >= thresholds.fall) transitions.push(this.flip(r, o.id, false, `down: ${r.failures} failed checks (${o.detail})`, now));
      }
      state[o.id] = r;
    }
    await this.ctx.storage.put(STATE, state);
    if (transitions.length > 0) {
      const history = [...(await this.history()), ...transitions].slice(-HISTORY_MAX);
      await this.ctx.storage.put(HISTORY, history);
      for (const t of transitions) console.log(JSON.stringify({ msg: "health transition", ...t }));
    }
    return transitions;
  }

  private flip(r: HealthRecord, id: string, healthy: boolean, reason: string, now: number): Transition {
    r.healthy = healthy;
    r.reason = reason;
    r.changedAt = now;
    return { id, at: now, healthy, reason };
  }
}
