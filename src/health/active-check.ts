import type { TargetSpec } from "../config/targets";
import { probe } from "./probe";
import type { Observation } from "./registry";

/** The load a node's /.well-known/offload/health reports in its JSON body, if any. */
async function reportedLoad(res: Response): Promise<number | undefined> {
  const body = (await res.json().catch(() => null)) as { load?: unknown } | null;
  return typeof body?.load === "number" && Number.isFinite(body.load) && body.load >= 0 ? body.load : undefined;
}

/**
 * One probe per target: GET of a node's health path (up on 200, with its load), HEAD of a
 * mirror's, where any status below 500 counts as alive (a 404 on "/" still proves the
 * server answers).
 */
async function probeTarget(target: TargetSpec, timeoutMs: number): Promise<Observation> {
  const node = target.kind === "node";
  const r = await probe<number | undefined>({
    url: target.url + target.healthPath,
    method: node ? "GET" : "HEAD",
    up: node ? (status) => status === 200 : (status) => status < 500,
    timeoutMs,
    userAgent: "offload-base-health",
    ...(node ? { read: reportedLoad } : {}),
  });
  const obs: Observation = { id: target.id, ok: r.ok, detail: r.answered ? `HTTP ${r.status} in ${r.ms} ms` : r.detail, source: "active" };
  if (r.answered && r.report !== undefined) obs.load = r.report;
  return obs;
}

export async function probeAll(targets: readonly TargetSpec[], timeoutMs: number): Promise<Observation[]> {
  return Promise.all(targets.map((t) => probeTarget(t, timeoutMs)));
}
