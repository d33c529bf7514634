import { DurableObject } from "cloudflare:workers";
import { countEvent } from "../stats/recorder";
import { step, type Thresholds, type Wording } from "../health/rise-fall";
import { newMemberRecord } from "./members";
import type { AdminState, FarmEvent, MemberRecord, MemberStats, Probe } from "./types";
import { log } from "../platform/log";

const MEMBER = "m:";
const EVENT = "e:";
const CHECKED = "c:";
const EVENTS_KEPT = 500;

/** Storage key of a member: farm and member names cannot hold "/" (config checks them). */
const memberKey = (farm: string, member: string) => `${MEMBER}${farm}/${member}`;

const WORDS: Wording = (healthy, count, p) => `${healthy ? "up" : "down"} after ${count} ${healthy ? "good" : "failed"} ${p.source} check(s): ${p.detail}`;

/**
 * mod_athena's farm state, one object for every isolate: per member the operator's state
 * (enabled, disabled, drain), health (up/down after rise/fall checks: health/rise-fall.ts) and
 * the last pushed stats, plus a log of transitions. Membership itself is configuration
 * (FARMS): callers check farm and member names before calling, so nothing is ever stored
 * for a name that is not configured. Members start enabled and up: a fresh deploy must
 * not refuse traffic before its first check.
 */
export class FarmRegistry extends DurableObject<Env> {
  async snapshot(): Promise<Record<string, MemberRecord>> {
    const out: Record<string, MemberRecord> = {};
    for (const [k, v] of await this.ctx.storage.list<MemberRecord>({ prefix: MEMBER })) out[k.slice(MEMBER.length)] = v;
    return out;
  }

  async events(limit = 100): Promise<FarmEvent[]> {
    const list = await this.ctx.storage.list<FarmEvent>({ prefix: EVENT, reverse: true, limit: Math.max(1, Math.min(limit, EVENTS_KEPT)) });
    return [...list.values()];
  }

  async setAdmin(farm: string, member: string, admin: AdminState, by: string): Promise<FarmEvent | null> {
    const r = await this.record(farm, member);
    if (r.admin === admin) return null;
    const event: FarmEvent = { at: Date.now(), farm, member, kind: "admin", state: admin, reason: `${r.admin} -> ${admin} by ${by}` };
    r.admin = admin;
    await this.ctx.storage.put(memberKey(farm, member), r);
    await this.log([event]);
    return event;
  }

  async pushStats(farm: string, member: string, stats: MemberStats): Promise<void> {
    const r = await this.record(farm, member);
    r.stats = stats;
    await this.ctx.storage.put(memberKey(farm, member), r);
  }

  /** Active checks or passive failures of one farm's members; returns the health transitions. */
  async observe(farm: string, probes: Probe[], thresholds: Thresholds): Promise<FarmEvent[]> {
    const now = Date.now();
    const events: FarmEvent[] = [];
    const updated: Record<string, MemberRecord> = {};
    for (const p of probes) {
      const { state, flip } = step(updated[p.member] ?? (await this.record(farm, p.member)), { ...p, at: now }, { ...thresholds, words: WORDS });
      updated[p.member] = state;
      if (flip) events.push({ at: flip.at, farm, member: p.member, kind: "health", state: flip.healthy ? "up" : "down", reason: flip.reason });
    }
    await this.ctx.storage.put(Object.fromEntries(Object.entries(updated).map(([m, r]) => [memberKey(farm, m), r])));
    await this.log(events);
    return events;
  }

  /** True (and the time noted) when `farm` was last checked at least `intervalMs` ago. */
  async claimCheck(farm: string, intervalMs: number, now = Date.now()): Promise<boolean> {
    const last = (await this.ctx.storage.get<number>(CHECKED + farm)) ?? 0;
    // A little slack: a one-minute Cron fires at about, not exactly, 60 s intervals.
    if (now - last < intervalMs - 1000) return false;
    await this.ctx.storage.put(CHECKED + farm, now);
    return true;
  }

  /** Drop state of members no longer configured (called with every configured "farm/member"). */
  async forgetAllBut(keep: string[]): Promise<number> {
    const wanted = new Set(keep);
    const stale = [...(await this.ctx.storage.list({ prefix: MEMBER })).keys()].filter((k) => !wanted.has(k.slice(MEMBER.length)));
    // storage.delete takes at most 128 keys per call.
    for (let i = 0; i < stale.length; i += 128) await this.ctx.storage.delete(stale.slice(i, i + 128));
    return stale.length;
  }

  private async record(farm: string, member: string): Promise<MemberRecord> {
    return (await this.ctx.storage.get<MemberRecord>(memberKey(farm, member))) ?? newMemberRecord(Date.now());
  }

  private async log(events: FarmEvent[]): Promise<void> {
    if (events.length === 0) return;
    // Structured transition logs (Workers Logs / Logpush pick up console output as JSON).
    for (const e of events) log.info("farm.member-transition", { ...e });
    for (const e of events) if (e.kind === "health") countEvent(this.env, this.ctx, { name: "offload_health_transitions_total", labels: { registry: "farms", to: e.state === "up" ? "up" : "down" } });
    let seq = (await this.ctx.storage.get<number>("seq")) ?? 0;
    const entries: Record<string, FarmEvent> = {};
    for (const e of events) entries[`${EVENT}${String(++seq).padStart(12, "0")}`] = e;
    await this.ctx.storage.put<unknown>({ ...entries, seq });
    if (seq > EVENTS_KEPT) {
      const old = await this.ctx.storage.list({ prefix: EVENT, end: `${EVENT}${String(seq - EVENTS_KEPT + 1).padStart(12, "0")}` });
      if (old.size) await this.ctx.storage.delete([...old.keys()]);
    }
  }
}
