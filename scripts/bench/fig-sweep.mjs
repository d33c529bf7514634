/**
 * Figure 9: the CHUNK_SIZE sweep that chooses the default by measurement. For every size
 * in BENCH_CHUNK_SIZES (MiB, e.g. "4,8,16"), all node workers restart with that
 * CHUNK_SIZE and run figure 5 for a crowd of 8 and figure 8 (the colo-tier download);
 * BENCH_QUICK=1 uses a 256 MiB file for the latter instead of 768 MiB.
 * Printed as its own table; the rows give each size's pass/miss against the goals.
 */
import { crowdRun } from "./fig-crowd.mjs";
import { COLO_FILE_SIZE, coloRun } from "./fig-colo.mjs";
import { MiB } from "./cold-util.mjs";

/** "4,8,16" -> [4, 8, 16]; rejects what the node would reject (4 KiB .. 256 MiB). */
export function parseChunkSizes(text) {
  const sizes = text.split(",").map((s) => s.trim()).filter(Boolean).map(Number);
  for (const s of sizes) if (!(s * MiB >= 4096 && s * MiB <= 256 * MiB && Number.isInteger(s * MiB))) throw new Error(`BENCH_CHUNK_SIZES: ${s} is not a chunk size in MiB (1/256 .. 256)`);
  return sizes;
}

export async function figureSweep(ctx) {
  const { stack, quick, note, log } = ctx;
  const sizes = parseChunkSizes(process.env.BENCH_CHUNK_SIZES ?? "4,8,16");
  const coloSize = quick ? 256 * MiB : COLO_FILE_SIZE;
  const results = [];
  try {
    for (const mib of sizes) {
      log(`9: CHUNK_SIZE ${mib} MiB...`);
      const chunkSize = mib * MiB;
      await stack.restart({ nodeVars: { CHUNK_SIZE: String(chunkSize) } });
      const c = await crowdRun(ctx, 8, `sweep${mib}`);
      await stack.restart({ nodeVars: { CHUNK_SIZE: String(chunkSize) } });
      const e = await coloRun({ ...ctx, chunkSize }, `/sweep-colo-${mib}m.bin`, coloSize, quick ? 1 : 3);
      results.push({ mib, c, e });
    }
  } finally {
    await stack.restart({ nodeVars: {} }); // later figures run with the configured size again
  }
  const s = (ms) => (ms / 1000).toFixed(2);
  ctx.table({
    title: "9: CHUNK_SIZE sweep",
    head: ["CHUNK_SIZE", "crowd 8 slowest s", "max(tee, stored) s", "ratio (<= 1.25)", "origin bytes (<= 1.05)", `${coloSize / MiB} MiB chunks`, "colo MB/s", "bare cache-seq MB/s", "ratio (>= 0.9)"],
    rows: results.map(({ mib, c, e }) => [`${mib} MiB`, s(c.coldMs), s(Math.max(c.teeMs, c.storedMs)), `${c.ratio.toFixed(2)}x`, `${c.originRatio.toFixed(3)}x`, String(e.chunks), e.node.toFixed(0), e.baseline.toFixed(0), `${(e.node / e.baseline).toFixed(2)}x`]),
  });
  note(`9: BENCH_CHUNK_SIZES=${sizes.join(",")}: per size, all node workers restarted with that CHUNK_SIZE, then figure 5 with 8 clients (48 MiB) and figure 8 (${coloSize / MiB} MiB, ${quick ? 1 : 3} round(s)); table above.`);
  return results.map(({ mib, c, e }) => ({
    // node = the crowd ratio, baseline = the colo ratio; ratio = the worse of the two margins.
    id: `9.${mib}`, what: `CHUNK_SIZE ${mib} MiB: node = crowd-8 ratio (<= 1.25), baseline = colo ratio (>= 0.9)`,
    node: c.ratio, baseline: e.node / e.baseline, unit: "x", ratio: Math.min(1.25 / c.ratio, (e.node / e.baseline) / 0.9),
    goal: "margin >= 1", pass: c.ratio <= 1.25 && c.originRatio <= 1.05 && e.node / e.baseline >= 0.9,
  }));
}
