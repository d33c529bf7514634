/** Flags of scripts/simulate-scale.mjs: defaults, help text and parsing (no dependencies). */

export const FLAGS = [
  // name, default, help
  ["seed", 1, "PRNG seed (mulberry32)"],
  // traffic
  ["files", 5000, "distinct files in the catalogue"],
  ["requests", 1_000_000, "downloads simulated over --days"],
  ["days", 30, "simulated period (for version changes, REVALIDATE_SECONDS, storage)"],
  ["zipf", 1.0, "Zipf exponent of file popularity"],
  ["colos", 120, "colos that see traffic"],
  ["colo-zipf", 1.0, "Zipf exponent of traffic over colos"],
  ["colo-sweep", "1,10,50,120,300", "colo counts for the colo-locality table"],
  ["sweep-cache-gib", 0, "Cache API per colo in the colo-locality table (0 = never evicts: only the per-colo first copies)"],
  ["size-median-mib", 100, "median file size (log-normal)"],
  ["size-sigma", 1.5, "log-normal sigma of file sizes (clamped to 1 MiB .. 8 GiB)"],
  ["chunk-mib", 8, "CHUNK_SIZE in MiB (default of node-config.ts / store/layout.ts)"],
  ["cache-api-max-mib", Infinity, "CACHE_API_MAX_BYTES in MiB: files up to it are colo-hot chunk by chunk (unlimited = default, 0 = R2 only)"],
  ["colo-cache-gib", 10, "Cache API bytes one colo keeps for us before evicting (LRU, 0 = never; not published by Cloudflare)"],
  ["changes", 0.3, "expected new versions per file over --days (Poisson)"],
  ["fill-mbps", 400, "speed of one fill (origin GET -> chunks -> R2), Mbit/s"],
  ["client-mbps", 40, "median client download speed, Mbit/s (log-normal, sigma 0.8)"],
  ["r2-mbps", 1000, "speed of one R2 chunk read (how long a colo takes to warm a chunk), Mbit/s"],
  ["lease-s", 30, "LEASE_SECONDS of the ConcurrencyLimiter (heartbeat every third of it)"],
  ["stall-s", 20, "FILL_STALL_SECONDS: fill lease length, coordinator alarm period, follower re-join timeout"],
  ["revalidate", "0,60,3600", "REVALIDATE_SECONDS values for the origin HEAD table"],
  // Durable Objects
  ["do-ceiling", 1000, "requests/s one Durable Object handles (Cloudflare's documented soft limit, approximate)"],
  ["crowd", "1000,10000,30000,60000,120000", "cold clients of one new file in the flash-crowd table"],
  ["crowd-window-s", 60, "seconds over which the flash crowd arrives (uniformly)"],
  ["crowd-size-mib", 1024, "size of the flash-crowd file"],
  ["slice-file-gib", 2, "file size for the slice-fill table (a cold Range of its last MiB, ...)"],
  ["isolates", "100,500,1000,2000,5000,10000", "isolate counts for the singleton-object table"],
  ["worker-rps", 5000, "requests/s over all isolates in the singleton table (base: HEALTH, FARMS; nodes + base: STATS)"],
  ["health-ttl-ms", 2000, "health view TTL (VIEW_TTL_MS, src/health/view.ts)"],
  ["farm-ttl-ms", 2000, "farm registry view TTL (FARM_VIEW_TTL_MS, src/farms/runtime.ts)"],
  ["stats-flush-s", 10, "STATS_FLUSH_SECONDS (src/config/stats-flush.ts); an isolate's first answer flushes at once"],
  ["busy-rps", "10,100,500,1000,2000", "eligible base GETs/s for the BUSY gauge table"],
  ["busy-threshold", 200, "OFFLOAD_WHEN_BUSY for the BUSY gauge table"],
  // R2 per-key writes
  ["change-every-s", "0.5,1,5,60,3600", "version-change intervals for the R2 per-key table"],
  ["hot-rps", 20, "requests/s on the changing file in the R2 per-key table"],
  ["hot-size-mib", 100, "size of the changing file"],
  // prices (USD, list prices used as defaults; check current pricing)
  ["price-r2-gb-month", 0.015, "R2 Standard storage, $ per GB-month"],
  ["price-r2-class-a", 4.5, "R2 Class A operations, $ per million"],
  ["price-r2-class-b", 0.36, "R2 Class B operations, $ per million"],
  ["price-r2-egress-gb", 0, "R2 egress, $ per GB (free)"],
  ["price-worker-req", 0.3, "Workers requests, $ per million"],
  ["price-worker-cpu", 0.02, "Workers CPU, $ per million CPU-ms"],
  ["price-do-req", 0.15, "Durable Object requests, $ per million"],
  ["price-do-gbs", 12.5, "Durable Object duration, $ per million GB-s"],
  ["price-do-write", 1.0, "Durable Object storage writes, $ per million"],
  ["origin-egress-gb", "0.05,0.09", "origin (cloud) egress, $ per GB, one column each"],
  ["cpu-ms-base", 1, "CPU ms per base request (assumed; bench-base measured ~0.3 ms locally)"],
  ["cpu-ms-node", 2, "CPU ms per node download (assumed; bodies are native pipes)"],
  ["do-call-ms", 5, "billed wall time per short Durable Object call, ms (assumed)"],
];

/** A flag's value as printed and as accepted back ("unlimited" for Infinity). */
export const show = (v) => (Array.isArray(v) ? v.join(",") : v === Infinity ? "unlimited" : String(v));


export function parseFlags(args) {
  const p = {};
  for (const [name, def] of FLAGS) p[name] = def;
  for (const a of args) {
    if (a === "--help" || a === "-h") {
      console.log("usage: node scripts/simulate-scale.mjs [--flag=value ...]\n");
      for (const [name, def, help] of FLAGS) console.log(`  --${name}=${show(def)}`.padEnd(44) + help);
      process.exit(0);
    }
    const m = /^--([a-z0-9-]+)=(.*)$/.exec(a);
    if (!m || !(m[1] in p)) {
      console.error(`unknown argument ${a} (try --help)`);
      process.exit(2);
    }
    const def = p[m[1]];
    if (typeof def === "number") {
      const n = def === Infinity && m[2] === "unlimited" ? Infinity : Number(m[2]);
      if (Number.isNaN(n) || n < 0 || (n === Infinity && def !== Infinity)) {
        console.error(`--${m[1]} needs a non-negative number, got ${m[2]}`);
        process.exit(2);
      }
      p[m[1]] = n;
    } else {
      if (!/^[0-9.]+(,[0-9.]+)*$/.test(m[2])) {
        console.error(`--${m[1]} needs comma-separated numbers, got ${m[2]}`);
        process.exit(2);
      }
      p[m[1]] = m[2];
    }
  }
  for (const [name, def] of FLAGS) if (typeof def === "string") p[name] = String(p[name]).split(",").map(Number);
  for (const k of ["files", "requests", "colos"]) p[k] = Math.max(1, Math.round(p[k]));
  for (const k of ["days", "fill-mbps", "client-mbps", "r2-mbps", "lease-s", "stall-s", "chunk-mib", "do-ceiling", "crowd-window-s", "worker-rps", "hot-rps", "price-r2-gb-month"]) {
    if (!(p[k] > 0)) {
      console.error(`--${k} must be greater than 0`);
      process.exit(2);
    }
  }
  return p;
}
