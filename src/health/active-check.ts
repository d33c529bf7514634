import type { TargetSpec } from "../config/targets";
import type { Observation } from "./registry";

/**
 * One probe per target: GET of its health path with a timeout. A node answers JSON
 * with its load (see the node's /.well-known/offload/health); for a mirror any status
 * below 500 counts as alive (a 404 on "/" still proves the server answers).
 */
export async function probe(target: TargetSpec, timeoutMs: number): Promise<Observation> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const started = Date.now();
  try {
    const res = await fetch(target.url + target.healthPath, {
      method: target.kind === "node" ? "GET" : "HEAD",
      redirect: "manual",
      signal: controller.signal,
      headers: { "user-agent": "offload-base-health" },
    });
    const ok = target.kind === "node" ? res.status === 200 : res.status < 500;
    let load: number | undefined;
    if (target.kind === "node" && ok) {
      const body = (await res.json().catch(() => null)) as { load?: unknown } | null;
      if (typeof body?.load === "number" && Number.isFinite(body.load) && body.load >= 0) load = body.load;
    } else {
      await res.body?.cancel();
    }
    const obs: Observation = { id: target.id, ok, detail: `HTTP ${res.status} in ${Date.now() - started} ms`, source: "active" };
    if (load !== undefined) obs.load = load;
    return obs;
  } catch (e) {
    const detail = controller.signal.aborted ? `no answer within ${timeoutMs} ms` : `cannot connect: ${(e as Error).message}`;
    return { id: target.id, ok: false, detail, source: "active" };
  } finally {
    clearTimeout(timer);
  }
}

export async function probeAll(targets: readonly TargetSpec[], timeoutMs: number): Promise<Observation[]> {
  return Promise.all(targets.map((t) => probe(t, timeoutMs)));
}
