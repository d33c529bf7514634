/** What the FarmRegistry keeps per member, and what callers send it. */
import type { CheckResult, RiseFallState } from "../health/rise-fall";

/** The operator's say: "drain" takes no new clients but keeps sticky ones (HAProxy's drain). */
export type AdminState = "enabled" | "disabled" | "drain";
export const ADMIN_STATES: readonly AdminState[] = ["enabled", "disabled", "drain"];

/** What the balancer and the admin page show: the operator's state, then health. */
export type EffectiveState = "enabled" | "draining" | "disabled" | "down";

export interface MemberStats {
  /** e.g. a load average or 0..1 utilisation, as the member's agent reports it. */
  load: number | null;
  /** Open connections (or sessions) the member reports. */
  conns: number | null;
  /** When the registry received it (ms). */
  at: number;
}

/** The operator's state and pushed stats beside the member's health (rise/fall). */
export interface MemberRecord extends RiseFallState {
  admin: AdminState;
  stats: MemberStats | null;
}

export interface Probe extends CheckResult {
  member: string;
}

export interface FarmEvent {
  at: number;
  farm: string;
  member: string;
  kind: "health" | "admin";
  /** "up" / "down" for health, the new AdminState for admin. */
  state: string;
  reason: string;
}
