// Moving the clock for Durable Object deadlines (leases, hash passes, grace periods) without
// waiting for them. Only Date is faked: timers and I/O keep real time. The objects' code
// runs in the test's isolate (vitest-plugin), so it reads the same clock.
import { runDurableObjectAlarm } from "cloudflare:test";
import { vi } from "vitest";

/** Runs `f` with Date.now() reading `time` (frozen there). */
export async function atTime<T>(time: number, f: () => Promise<T>): Promise<T> {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(time);
  try {
    return await f();
  } finally {
    vi.useRealTimers();
  }
}

/** Runs the object's scheduled alarm as if it were `time` now; false when none was set. */
export function alarmAt(stub: DurableObjectStub, time: number): Promise<boolean> {
  return atTime(time, () => runDurableObjectAlarm(stub));
}
