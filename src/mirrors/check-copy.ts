import { timedFetch } from "../platform/timed-fetch";
import { judgeCopy, versionOfHead, type FileVersion, type Judged } from "./verdict";

/** A mirror as the inventory needs it: where it is, and whether its ETags are the origin's. */
export interface MirrorRef {
  id: string;
  /** Base URL without trailing slash (config/targets.ts); the file's path is appended. */
  url: string;
  originEtags: boolean;
}

/**
 * One HEAD of the file on the mirror, judged against the origin's version. A mirror that
 * cannot be reached in time is an "error": not used until asked again.
 */
export async function checkCopy(mirror: MirrorRef, path: string, origin: FileVersion, timeoutMs: number): Promise<Judged> {
  // "manual": a mirror that redirects elsewhere has not shown us the copy it would serve.
  const answer = await timedFetch(mirror.url + path, { method: "HEAD", redirect: "manual" }, { timeoutMs, covers: "exchange" });
  if (!answer.ok) return { verdict: "error", detail: answer.kind === "timeout" ? `no answer within ${timeoutMs} ms` : "cannot connect" };
  await answer.response.body?.cancel();
  return judgeCopy(origin, answer.response.status, versionOfHead(answer.response.headers), mirror.originEtags);
}
