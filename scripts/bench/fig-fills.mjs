/**
 * Figures 4 and 6: cold objects (nothing stored yet), all through the default-config
 * node worker "node" (REVALIDATE_SECONDS=0, guard on). Figure 5 (cold crowds) is in
 * fig-crowd.mjs, 7 (slice fill) in fig-slice.mjs, 8 (colo tier) in fig-colo.mjs.
 *   4. peak workerd RSS growth of a cold big fill vs a cold fill 1/4 of its size
 *   6. time to first body byte of a cold object vs straight from the origin
 */
import { httpGet, median, sampleRss, startGet, steadyRss } from "./clients.mjs";
import { fmtSize } from "./fig-hits.mjs";
import { run } from "./procs.mjs";

import { MB, sleep, until, waitStored } from "./cold-util.mjs";

/** After the fill, figure 4 watches this long for what the first client does next. */
const AFTER_MS = 3000;

/**
 * One cold fill in a fresh, warmed-up workerd with one fast client, VmRSS sampled every
 * 50 ms from the request until the origin has sent the whole body (the filler then
 * stores the last chunk and the coordinator commits, well under a second). The filler
 * holds one chunk buffer at a time and the client reads live and stored chunks, so the
 * peak should not follow the file size; the AFTER_MS that follow (the client reading
 * its last chunks from the store) are reported in a note, not in the figure.
 */
async function measuredFill(ctx, file, warm) {
  const { stack, origin } = ctx;
  await stack.restart();
  const pid = stack.pid();
  // Warm-up: a small cold fill runs the node, both Durable Objects and R2 once.
  const w = await httpGet(stack.url("node") + warm.path, { "cf-connecting-ip": "10.4.0.250" });
  if (w.status !== 200) throw new Error(`warm-up fill: ${w.status}`);
  await sleep(1000);
  const before = await steadyRss(pid, 5, 100);
  const sampler = sampleRss(pid, 50);
  const t0 = performance.now();
  const client = startGet(stack.url("node") + file.path, { "cf-connecting-ip": "10.4.0.1" });
  const sent = async () => (await origin.control.stats(file.path)).bodyBytes;
  const originDone = await until(async () => (await sent()) >= file.size, 50, 600_000);
  const sentS = (performance.now() - t0) / 1000;
  const fillPeak = sampler.peak;
  const clientBytes = client.state.bytes;
  await sleep(AFTER_MS);
  const { peak } = sampler.stop();
  client.stop();
  if (!originDone) throw new Error(`cold fill of ${file.path}: the origin never sent the whole body`);
  if (client.state.status !== 200) throw new Error(`cold fill of ${file.path}: client got ${client.state.status}`);
  // Later figures read this copy: wait until it is committed.
  await waitStored(stack, file.path);
  return { growth: (fillPeak - before) / MB, afterGrowth: (peak - before) / MB, sentS, clientBytes };
}

export async function figureFillMemory(ctx) {
  const { files, note } = ctx;
  const small = await measuredFill(ctx, files.fillSmall, files.warm[0]);
  const big = await measuredFill(ctx, files.big, files.warm[1]);
  const s = fmtSize(files.fillSmall.size);
  const b = fmtSize(files.big.size);
  const seen = (r, size) => `${(r.clientBytes / MB).toFixed(1)} of ${(size / MB).toFixed(0)} MB`;
  note(`4: one node:http client per cold fill (reads as fast as it can), fresh warmed workerd each, VmRSS every 50 ms from the request until the origin has sent the whole body (${s}: ${small.sentS.toFixed(1)} s, ${b}: ${big.sentS.toFixed(1)} s). By then the client had received ${seen(small, files.fillSmall.size)} (${s}) and ${seen(big, files.big.size)} (${b}) (it reads chunks live from its own Worker's fill and stored ones from the Cache API / R2, never detached); peak growth including the ${AFTER_MS / 1000} s after: ${small.afterGrowth.toFixed(0)} MB (${s}) and ${big.afterGrowth.toFixed(0)} MB (${b}).`);
  return [{
    id: "4", what: `cold-fill peak RSS growth (${b} vs ${s})`,
    node: big.growth, baseline: small.growth, unit: "MB", ratio: big.growth / small.growth,
    goal: "<= 1.5 (~1)", pass: big.growth / small.growth <= 1.5,
  }];
}

export async function figureFirstByte(ctx) {
  const { stack, origin, files, note } = ctx;
  await stack.restart(); // no background work left over from the figure before
  const ip = { "cf-connecting-ip": "10.6.0.1" };
  // Unmeasured warm-up: one cold fill and one origin GET.
  await httpGet(stack.url("node") + files.ttfbWarm.path, ip);
  await httpGet(origin.url + files.ttfbWarm.path);
  const node = [];
  const direct = [];
  for (const [i, pair] of files.ttfb.entries()) {
    const order = i % 2 ? ["node", "direct"] : ["direct", "node"];
    for (const who of order) {
      // Flush dirty pages first (R2 blobs of the previous fill): ext4 writeback otherwise
      // stalls the next request's file metadata updates, whichever side it is on.
      await run("sync", []);
      await sleep(1000); // and let background work of the previous request (GC, R2 clean-up) settle
      const r = who === "node"
        ? await httpGet(stack.url("node") + pair.node.path, ip)
        : await httpGet(origin.url + pair.direct.path);
      if (r.status !== 200 || r.bytes !== pair.node.size) throw new Error(`${who} GET: ${r.status}, ${r.bytes} bytes`);
      (who === "node" ? node : direct).push(r.ttfbMs);
    }
  }
  const n = median(node);
  const d = median(direct);
  note(`6: ${files.ttfb.length} cold ${fmtSize(files.ttfb[0].node.size)} objects through "node" vs ${files.ttfb.length} different same-size files straight from the origin, alternating, new connection each, \`sync\` and 1 s idle before each, time from request to first body byte, median (node: ${node.map((x) => x.toFixed(1)).join(", ")} ms; origin: ${direct.map((x) => x.toFixed(1)).join(", ")} ms).`);
  return [{
    id: "6", what: "first body byte of a cold object (ms)",
    node: n, baseline: d, unit: "ms", ratio: n - d, ratioIsDelta: true,
    goal: "<= +20 ms", pass: n - d <= 20,
  }];
}
