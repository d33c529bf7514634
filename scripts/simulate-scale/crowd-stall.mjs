/**
 * Section 2a of the scale model, when something dies halfway through the fill of the
 * flash-crowd file: the filling Worker, or the FillCoordinator itself. Both take the
 * crowd's timeline from crowd.mjs (arrivals, when each chunk is stored, when each client
 * needs which chunk) and follow src/fill/coordinator.ts and src/fill/cold-read.ts.
 */
import { Buckets } from "./common.mjs";

/** The chunk in flight halfway through the fill, when its fetch started, and the moment of the failure (mid-chunk). */
function halfway(tl) {
  const k = Math.floor(tl.chunks / 2);
  const from = k > 0 ? tl.storedAt(k - 1) : tl.t0;
  return { k, from, at: (from + tl.storedAt(k)) / 2 };
}

/**
 * The filling Worker dies halfway. Its lease runs out FILL_STALL_SECONDS after its last
 * report; the alarm (set for that expiry) hands ONE new lease, on the chunks from the
 * first missing one, to ONE waiting subscriber on its own stream (handOut()): one message.
 * Every other follower keeps waiting at the live edge and hears nothing until the new
 * holder's first chunk; it re-joins only if its own timer (FILL_STALL_SECONDS + 1 s after
 * the last event it heard, cold-read.ts readChunk) runs out first, i.e. when one chunk
 * takes the new holder more than a second. Origin first-byte time is not modelled.
 */
export function fillerDies(tl) {
  const { k, from, at } = halfway(tl);
  const expiry = from + tl.stall;
  const chunkS = tl.storedAt(k) - from;
  const resumed = expiry + chunkS;
  let rejoins = 0;
  for (const a of tl.arrivals.slice(1)) if (a.t < resumed && tl.reach(a, k) + tl.stall + 1 < resumed) rejoins++;
  return {
    messages: 1,
    rejoins,
    // The chunk in flight when it died is fetched again from its first byte.
    originBody: (tl.S + (at - from) * tl.F) / tl.S,
    pauseS: resumed - tl.storedAt(k),
    chunkS,
  };
}

/**
 * The FillCoordinator restarts halfway (eviction, deploy): its leases and progress
 * streams lived in memory, the stored set is in its storage. The filling Worker does not
 * notice (its reports are accepted, renew() answers false and is ignored) and finishes.
 * Every follower's stream breaks without an event; each re-joins once, when its timer
 * runs out FILL_STALL_SECONDS + 1 s after the last event it heard. The first join after
 * the restart (a new arrival or the first re-join) gets a lease on every chunk not stored
 * yet: the object no longer knows the running filler's lease, so the origin sends those
 * chunks a second time and each of their R2 keys is written twice.
 */
export function coordinatorRestarts(tl) {
  const { k, from, at } = halfway(tl);
  const calls = new Buckets();
  const rejoinCalls = new Buckets();
  let lost = 0;
  let firstJoin = Infinity;
  for (const a of tl.arrivals) {
    if (a.t < at) {
      lost++;
      const t = tl.reach(a, k) + tl.stall + 1;
      calls.add(t);
      rejoinCalls.add(t);
      firstJoin = Math.min(firstJoin, t);
    } else if (a.t < tl.end) {
      calls.add(a.t);
      firstJoin = Math.min(firstJoin, a.t);
    }
  }
  for (let i = k; i < tl.chunks; i++) calls.add(tl.storedAt(i)); // the running filler's reports
  let again = 0;
  let twiceWithin1s = 0;
  if (firstJoin < tl.end) {
    let next = 0;
    while (next < tl.chunks && tl.storedAt(next) <= firstJoin) next++;
    let t = firstJoin;
    for (let i = next; i < tl.chunks; i++) {
      const bytes = Math.min(tl.C, tl.S - i * tl.C);
      again += bytes;
      t += bytes / tl.F;
      calls.add(t); // the second filler's report (accepted, not fresh)
      if (Math.abs(t - tl.storedAt(i)) < 1) twiceWithin1s++;
    }
  }
  const after = Math.floor(at);
  return {
    lost,
    rejoinPeak: rejoinCalls.peak(),
    peak: calls.peak(after),
    firstJoinS: firstJoin - at,
    originBody: (tl.S + again) / tl.S,
    twiceWithin1s,
  };
}
