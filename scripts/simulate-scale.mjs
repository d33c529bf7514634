#!/usr/bin/env node
/**
 * Scale model of edge-offload-cdn on Cloudflare; docs/scaling.md quotes its output.
 *
 *   node scripts/simulate-scale.mjs [--flag=value ...]      (--help lists the flags)
 *
 * Plain Node ESM, node: builtins only, deterministic: every random draw comes from a
 * seeded mulberry32, so the same flags print the same figures on Node 20 and Node 24.
 * It simulates the request paths of src/ (not closed-form formulas):
 *   1. traffic: Zipf file choice, Zipf-weighted colos, one Cache API per colo holding
 *      pointers and chunks (LRU by bytes, a file may be partly resident), one R2 store
 *      of chunked versions, fills coordinated by one FillCoordinator per version, version
 *      changes; R2 operations counted per call site (store.ts, cache-tier.ts, r2-tier.ts,
 *      fill/coordinator.ts, fill/commit.ts, fill/filler.ts, node/serve-object.ts);
 *   1c. slice fills: what a cold Range request costs (fill/cold-read.ts, filler.ts);
 *   2. Durable Object load: a cold flash crowd on one file (one FillCoordinator: joins,
 *      chunk reports, progress events, the one lease message when a filler dies, the
 *      re-joins after a coordinator restart), client behaviours against
 *      one ConcurrencyLimiter, the base's BUSY gauge, and the singleton objects (HEALTH,
 *      FARMS, STATS) against the number of isolates;
 *   3. R2 writes per key for a file that changes at a given interval;
 *   4. cost per TB from the traffic run, with list prices as overridable flags.
 * Each section lives in scripts/simulate-scale/ (common.mjs: PRNG, units, table printer).
 * Limits quoted (about 1,000 req/s per Durable Object, about 1 write/s per R2 key, 512 MB
 * per Cache API entry) are Cloudflare's documented, approximate figures; prices are list
 * prices: check current pricing before relying on them.
 */
import { COMPLETE_KEEP_S, EVENT_BYTES, WARMING_S } from "./simulate-scale/common.mjs";
import { costSection } from "./simulate-scale/cost.mjs";
import { crowdSection } from "./simulate-scale/crowd.mjs";
import { FLAGS, parseFlags, show } from "./simulate-scale/flags.mjs";
import { objectSections } from "./simulate-scale/objects.mjs";
import { r2KeySection } from "./simulate-scale/r2-keys.mjs";
import { sliceSection } from "./simulate-scale/slice.mjs";
import { trafficSections } from "./simulate-scale/traffic.mjs";

const p = parseFlags(process.argv.slice(2));
console.log("# simulate-scale: edge-offload-cdn on Cloudflare (deterministic model, not a measurement)");
console.log("flags (override with --name=value, --help lists them):");
for (const [name] of FLAGS) console.log(`  --${name}=${show(p[name])}`);
console.log(`code constants: chunk warm claim ${WARMING_S} s per colo, finished fill forgotten after ${COMPLETE_KEEP_S} s, progress event ~${EVENT_BYTES} bytes`);

const main = trafficSections(p);
sliceSection(p);
crowdSection(p);
objectSections(p);
r2KeySection(p);
costSection(p, main);
