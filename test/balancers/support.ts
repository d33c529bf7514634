// Shared fixtures for the balancer tests: a seeded PRNG, target/candidate
// builders and fast-check arbitraries for random pools.
import fc from "fast-check";
import type { Candidate, SelectContext, Target, TargetState } from "../../src/balancers/types";

/**
 * mulberry32 (Tommy Ettinger, public domain): 32-bit state, good enough for
 * statistics over tens of thousands of draws, and reproducible from a seed
 * so every measured number in these tests is the same on every run.
 */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function target(id: string, extra: Partial<Target> = {}): Target {
  return { id, url: `https://${id}.example/`, weight: 1, prefixes: ["/"], ...extra };
}

export function candidate(t: Target, state: Partial<TargetState> = {}): Candidate {
  return { target: t, state: { healthy: true, ...state } };
}

/** n healthy, equal-weight candidates "t0".."t{n-1}". */
export function pool(n: number, extra: (i: number) => Partial<Target> = () => ({})): Candidate[] {
  return Array.from({ length: n }, (_, i) => candidate(target(`t${i}`, extra(i))));
}

export function ctx(over: Partial<SelectContext> = {}): SelectContext {
  return { path: "/iso/x.iso", random: seeded(1), sequence: 0, now: 1_700_000_000_000, ...over };
}

export const ids = (xs: readonly { target: Target }[] | readonly Target[]): string[] =>
  xs.map((x) => ("target" in x ? x.target.id : x.id));

/** Count of each id, in a plain record for readable failure messages. */
export function tally(picks: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of picks) out[p] = (out[p] ?? 0) + 1;
  return out;
}

const PREFIXES = ["/", "/iso/", "/iso", "/pub/", "/pub/debian/", "/video/"];
const PATHS = ["/iso/x.iso", "/iso", "/isolinux/a", "/pub/debian/pool/a.deb", "/pub/x", "/video/v.mp4", "/"];

const arbLocation = fc.record(
  {
    lat: fc.double({ min: -90, max: 90, noNaN: true }),
    lon: fc.double({ min: -180, max: 180, noNaN: true }),
    country: fc.constantFrom("DE", "FR", "US", "AU", "fr"),
    continent: fc.constantFrom("EU", "NA", "OC"),
  },
  { requiredKeys: ["lat", "lon"] },
);

/** A target with its state: weights include 0 and fractions, loads include missing and odd values. */
const arbEntry = fc.record({
  weight: fc.oneof(fc.constant(1), fc.constant(0), fc.double({ min: 0, max: 100, noNaN: true }), fc.integer({ min: -5, max: 10 })),
  prefixes: fc.subarray(PREFIXES),
  location: fc.option(arbLocation, { nil: undefined }),
  asns: fc.option(fc.subarray([64500, 64501, 13335]), { nil: undefined }),
  // Never both false: config refuses that (config/targets.ts).
  family: fc.constantFrom<{ ipv4?: boolean; ipv6?: boolean }>({}, { ipv4: true, ipv6: true }, { ipv4: false }, { ipv6: false }),
  healthy: fc.boolean(),
  load: fc.option(fc.oneof(fc.nat(1000), fc.double({ min: 0, max: 1, noNaN: true }), fc.constant(Number.NaN), fc.constant(-1)), {
    nil: undefined,
  }),
});

export interface Pool {
  targets: Target[];
  states: Map<string, TargetState>;
}

/** 1..50 targets with distinct ids, random states. */
export const arbPool: fc.Arbitrary<Pool> = fc
  .uniqueArray(fc.string({ minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 50 })
  .chain((idList) => fc.tuple(fc.constant(idList), fc.array(arbEntry, { minLength: idList.length, maxLength: idList.length })))
  .map(([idList, entries]) => {
    const targets: Target[] = [];
    const states = new Map<string, TargetState>();
    idList.forEach((id, i) => {
      const e = entries[i]!;
      targets.push({ id, url: `https://h${i}.example/`, weight: e.weight, prefixes: e.prefixes, ...(e.location ? { location: e.location } : {}), ...(e.asns ? { asns: e.asns } : {}), ...e.family });
      states.set(id, { healthy: e.healthy, ...(e.healthy ? {} : { reason: `down: ${i} failed checks` }), ...(e.load === undefined ? {} : { load: e.load }) });
    });
    return { targets, states };
  });

export const arbPath = fc.oneof(fc.constantFrom(...PATHS), fc.string().map((s) => `/iso/${s}`));

/** Everything in a SelectContext except `random`, plus the seed to rebuild it. */
export const arbCtx = fc.record({
  path: arbPath,
  seed: fc.integer(),
  sequence: fc.oneof(fc.nat(), fc.integer({ min: -1000, max: 1000 })),
  client: fc.option(
    fc.record(
      {
        lat: fc.oneof(fc.double({ min: -90, max: 90, noNaN: true }), fc.constant(Number.NaN)),
        lon: fc.double({ min: -180, max: 180, noNaN: true }),
        country: fc.constantFrom("DE", "FR", "US", "AU", "BR"),
        continent: fc.constantFrom("EU", "NA", "OC", "SA"),
        asn: fc.constantFrom(64500, 64501, 13335, 3320),
        family: fc.constantFrom<4 | 6>(4, 6),
      },
      { requiredKeys: [] },
    ),
    { nil: undefined },
  ),
});

export function ctxOf(c: { path: string; seed: number; sequence: number; client?: SelectContext["client"] | undefined }): SelectContext {
  return { path: c.path, random: seeded(c.seed), sequence: c.sequence, now: 1_700_000_000_000, ...(c.client ? { client: c.client } : {}) };
}

/** Prints a measured statistic, so a run shows the numbers behind each assertion. */
export function report(label: string, stats: Record<string, unknown>): void {
  console.log(`[balancers] ${label}: ${JSON.stringify(stats)}`);
}

export const round = (x: number, digits = 4): number => Number(x.toFixed(digits));

/** Fisher–Yates with the seeded PRNG: a reordered copy. */
export function shuffled<T>(xs: readonly T[], random: () => number): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
