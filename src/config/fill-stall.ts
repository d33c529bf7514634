/**
 * FILL_STALL_SECONDS, read by the node config and by the FillCoordinator, which has no
 * node config of its own and needs only this one field (its lease length).
 */
import { integer, type RawVars } from "./fields.ts";

/** Seconds a fill may go without a stored chunk or heartbeat before its lease is taken back. */
export function fillStallSeconds(vars: RawVars): number {
  return integer(vars, "FILL_STALL_SECONDS", 20, 1, 600);
}
