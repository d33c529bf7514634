/**
 * Fan-outs over the mirrors' copies objects (one per mirror, inventory.ts copiesOf): each
 * holds one mirror's verdicts, the files asked of it and its scan state, so no object
 * grows with mirrors x files (docs/scaling.md 2e). A copies object that does not answer
 * costs only its own mirror: its verdicts stay unknown (the mirror is not named) and its
 * admin row shows nothing.
 */
import { copiesOf, type CheckRequest, type InventoryEnv, type Remembered } from "./inventory";
import type { MirrorRow } from "./scan-store";
import type { LastVerdict } from "./catalog";
import { log } from "../platform/log";

/** The standing verdicts of `req.mirrors` for this version of the file, each from its mirror's object. */
export async function checkCopies(env: InventoryEnv, req: CheckRequest): Promise<Record<string, Remembered>> {
  const answers = await settled(req.mirrors.map((m) => m.id), (id) => copiesOf(env, id).check({ ...req, mirrors: req.mirrors.filter((m) => m.id === id) }) as Promise<Record<string, Remembered>>);
  return Object.assign({}, ...Object.values(answers));
}

export interface CopiesSummary {
  last: LastVerdict | null;
  lastProblem: LastVerdict | null;
  /** null before the mirror's first scan. */
  state: MirrorRow | null;
}

/** For the admin: each mirror's last verdicts and scan state. */
export async function copiesSummaries(env: InventoryEnv, ids: string[]): Promise<Record<string, CopiesSummary>> {
  return settled(ids, async (id) => {
    const copies = copiesOf(env, id);
    const [verdicts, states] = await Promise.all([copies.lastVerdicts([id]), copies.mirrorStates()]);
    const v = (verdicts as Record<string, { last: LastVerdict | null; lastProblem: LastVerdict | null }>)[id];
    return { last: v?.last ?? null, lastProblem: v?.lastProblem ?? null, state: (states as Record<string, MirrorRow>)[id] ?? null };
  });
}

/** `ask(id)` for every id at once; an id whose object failed is left out (and logged). */
async function settled<T>(ids: string[], ask: (id: string) => Promise<T>): Promise<Record<string, T>> {
  const results = await Promise.allSettled(ids.map(ask));
  const out: Record<string, T> = {};
  results.forEach((r, i) => {
    if (r.status === "fulfilled") out[ids[i]!] = r.value;
    else log.warn("mirror.copies-unavailable", { mirror: ids[i], error: String(r.reason) });
  });
  return out;
}
