/**
 * Downloads in flight in this isolate: the load a node reports to the base's health
 * checks (least-loaded, p2c and bounded-hash balancing use it). Per isolate, so an
 * approximation of the node's load, honest about being one.
 */
import { perIsolate } from "../platform/per-isolate";

const gauge = perIsolate((_env: object) => ({ inFlight: 0 }));

export function downloadStarted(env: object): () => void {
  const g = gauge(env);
  g.inFlight += 1;
  let done = false;
  return () => {
    if (!done) g.inFlight -= 1;
    done = true;
  };
}

export function downloadsInFlight(env: object): number {
  return gauge(env).inFlight;
}
