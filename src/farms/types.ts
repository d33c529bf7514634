/** What the FarmRegistry keeps per member, and what callers send it. */

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

export interface MemberRecord {
  admin: AdminState;
  healthy: boolean;
  /** Why it is down, or the last failure seen. */
  reason: string;
  successes: number;
  failures: number;
  checkedAt: number;
  changedAt: number;
  stats: MemberStats | null;
}

export interface Probe {
  member: string;
  ok: boolean;
  detail: string;
  source: "active" | "passive";
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
