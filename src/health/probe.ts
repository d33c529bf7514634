/**
 * The one active check, for offload nodes, mirrors and farm members alike: one request
 * (method + URL), no redirect followed, and the whole answer due within the timeout. Down
 * is a refused connection, no answer in time, or a status the check does not expect
 * (which is how a 5xx counts as down); the registries turn results into up/down.
 */
import { timedFetch } from "../platform/timed-fetch";

export interface ActiveCheck<T> {
  url: string;
  method: "GET" | "HEAD";
  /** The statuses that mean up. */
  up: (status: number) => boolean;
  timeoutMs: number;
  userAgent: string;
  /** What an up answer's body reports (a node's load); without it the body is discarded. */
  read?: (res: Response) => Promise<T>;
}

export type ProbeResult<T> =
  | { answered: true; ok: boolean; status: number; ms: number; report?: T }
  /** detail: "no answer within N ms" or "cannot connect: <runtime message>". */
  | { answered: false; ok: false; kind: "timeout" | "connect"; detail: string };

export async function probe<T = never>(check: ActiveCheck<T>): Promise<ProbeResult<T>> {
  const started = Date.now();
  const answer = await timedFetch(
    check.url,
    { method: check.method, redirect: "manual", headers: { "user-agent": check.userAgent } },
    // The body is read within the deadline too: a check that hangs mid-answer is no answer.
    { timeoutMs: check.timeoutMs, covers: "exchange" },
  );
  if (!answer.ok) return { answered: false, ok: false, kind: answer.kind, detail: answer.detail };
  const res = answer.response;
  const ok = check.up(res.status);
  const result: ProbeResult<T> = { answered: true, ok, status: res.status, ms: Date.now() - started };
  // The status decides up or down; a body that cannot be read (or parsed) just reports nothing.
  if (ok && check.read) result.report = await check.read(res).catch(() => undefined);
  else await res.body?.cancel().catch(() => {});
  return result;
}
