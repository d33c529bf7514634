/**
 * The lag policy (issue #14 part 2), pure. A mirror whose known outdated or missing
 * copies (among the files it is meant to hold: its prefixes) exceed a limit, in number or
 * in the age of the oldest, is disabled for every file — even those it holds current: a
 * mirror that far behind is not syncing, and the next file it would get is as likely
 * stale (Mirrorbits and MirrorBrain disable the whole mirror too). It comes back only
 * after a full pass over its files that started after it was disabled finds it within
 * the limits, so one lucky file cannot re-enable it.
 */

export interface Lag {
  /** Files whose copy the last scan found outdated or missing. */
  files: number;
  /** Since when the oldest of them has been seen so (ms since the epoch); null = none. */
  oldestSince: number | null;
}

export interface LagLimits {
  /** 0 = no limit. */
  maxLagFiles: number;
  maxLagSeconds: number;
}

export interface MirrorStatus {
  disabled: boolean;
  /** Why disabled (or why enabled again), for the admin and the logs. */
  reason: string;
  /** When it was disabled or enabled (ms since the epoch). */
  since: number;
}

/** Why the lag is beyond the limits, or null when it is within them. */
export function lagBeyond(lag: Lag, limits: LagLimits, now: number): string | null {
  if (limits.maxLagFiles > 0 && lag.files > limits.maxLagFiles) return `${lag.files} files outdated or missing (limit ${limits.maxLagFiles})`;
  if (limits.maxLagSeconds > 0 && lag.oldestSince !== null) {
    const seconds = Math.floor((now - lag.oldestSince) / 1000);
    if (seconds > limits.maxLagSeconds) return `a copy outdated or missing for ${seconds} s (limit ${limits.maxLagSeconds} s)`;
  }
  return null;
}

/**
 * The mirror's next status after a scan batch. `passStartedAt`: when the pass that just
 * completed began (null while a pass is under way).
 */
export function nextStatus(current: MirrorStatus, { lag, limits, now, passStartedAt }: { lag: Lag; limits: LagLimits; now: number; passStartedAt: number | null }): MirrorStatus {
  const beyond = lagBeyond(lag, limits, now);
  if (!current.disabled) return beyond ? { disabled: true, reason: `lagging: ${beyond}`, since: now } : current;
  if (beyond || passStartedAt === null || passStartedAt < current.since) return current;
  return { disabled: false, reason: "a full rescan found it within the lag limits", since: now };
}
