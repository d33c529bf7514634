import type { Farm, FarmMember } from "../config/farms-config";
import { unchecked } from "../health/rise-fall";
import type { EffectiveState, MemberRecord, MemberStats } from "./types";

/** One member as the balancer, query mode and admin page see it: config plus registry state. */
export interface MemberView extends FarmMember {
  farm: string;
  record: MemberRecord;
  state: EffectiveState;
  /** Pushed stats still within the farm's statsTtlSeconds; null when none or expired. */
  freshStats: MemberStats | null;
}

/** A member the registry has not recorded yet: enabled, and up as every never-checked target is (rise-fall.ts). */
export function newMemberRecord(now: number): MemberRecord {
  return { admin: "enabled", ...unchecked(now), stats: null };
}

const UNSEEN: MemberRecord = Object.freeze(newMemberRecord(0));

export function effectiveState(r: MemberRecord): EffectiveState {
  if (r.admin === "disabled") return "disabled";
  if (!r.healthy) return "down";
  return r.admin === "drain" ? "draining" : "enabled";
}

/** The farm's members in configured order, merged with the registry snapshot. */
export function memberViews(farm: Farm, records: Readonly<Record<string, MemberRecord>>, now: number): MemberView[] {
  return farm.members.map((m) => {
    const record = records[`${farm.name}/${m.id}`] ?? UNSEEN;
    const s = record.stats;
    const freshStats = s && now - s.at <= farm.statsTtlSeconds * 1000 ? s : null;
    return { ...m, farm: farm.name, record, state: effectiveState(record), freshStats };
  });
}
