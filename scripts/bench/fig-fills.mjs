/**
 * Figures 4-6: cold objects (nothing stored yet), all through the default-config node
 * worker "node" (REVALIDATE_SECONDS=0, guard on).
 *   4. peak workerd RSS growth of a cold big fill vs a cold fill 1/4 of its size
 *   5. origin body bytes for 20 concurrent cold clients of one object
 *   6. time to first body byte of a cold object vs straight from the origin
 */
import { httpGet, median, sampleRss, startGet, steadyRss } from "./clients.mjs";
import { fmtSize } from "./fig-hits.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const MB = 1e6;

/** Whether the node has a stored copy (HEAD through node-r2: "hit" once the copy is committed). */
async function isStored(stack, path) {
  const r = await fetch(stack.url("node-r2") + path, { method: "HEAD" });
  return (r.headers.get("cache-status") ?? "").includes("hit");
}

/** Polls `check` every `everyMs` until it is true; false after `timeoutMs`. */
async function until(check, everyMs, timeoutMs) {
  const end = performance.now() + timeoutMs;
  while (performance.now() < end) {
    if (await check()) return true;
    await sleep(everyMs);
  }
  return false;
}

/**
 * One cold fill in a fresh, warmed-up workerd, VmRSS sampled every 50 ms from the
 * request until the copy is stored. The client is stopped once the origin has sent
 * the whole body: a client detached from the live fill would next read the stored copy,
 * and Miniflare's R2 reads a multipart object whole into memory ahead of its reader
 * (figure 2 shows the bare R2 pass-through doing the same), which is not the fill.
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
  const originDone = await until(async () => (await origin.control.stats(file.path)).bodyBytes >= file.size, 100, 600_000);
  const sentS = (performance.now() - t0) / 1000;
  const clientBytes = client.state.bytes;
  const clientEnded = client.state.ended;
  client.stop();
  const stored = originDone && await until(() => isStored(stack, file.path), 100, 120_000);
  const storedS = (performance.now() - t0) / 1000;
  const { peak } = sampler.stop();
  if (!stored) throw new Error(`cold fill of ${file.path} did not complete (origin sent all: ${originDone})`);
  if (client.state.status !== 200) throw new Error(`cold fill of ${file.path}: client got ${client.state.status}`);
  return { growth: (peak - before) / MB, sentS, storedS, clientBytes, clientEnded };
}

export async function figureFillMemory(ctx) {
  const { files, note } = ctx;
  const small = await measuredFill(ctx, files.fillSmall, files.warm[0]);
  const big = await measuredFill(ctx, files.big, files.warm[1]);
  const s = fmtSize(files.fillSmall.size);
  const b = fmtSize(files.big.size);
  const client = (r, size) => (r.clientEnded ? "had the whole body" : `had received ${(r.clientBytes / MB).toFixed(1)} of ${(size / MB).toFixed(0)} MB`);
  note(`4: one node:http client per cold fill, fresh warmed workerd each, VmRSS every 50 ms from the request until the copy is stored; the client is stopped when the origin has sent everything (a detached client would then read the stored copy, which Miniflare's R2 buffers whole for multipart objects, as the bare pass-through in 2 shows). ${s}: origin done after ${small.sentS.toFixed(1)} s, stored after ${small.storedS.toFixed(1)} s, the client ${client(small, files.fillSmall.size)}; ${b}: origin done after ${big.sentS.toFixed(1)} s, stored after ${big.storedS.toFixed(1)} s, the client ${client(big, files.big.size)}.`);
  return [{
    id: "4", what: `cold-fill peak RSS growth (${b} vs ${s})`,
    node: big.growth, baseline: small.growth, unit: "MB", ratio: big.growth / small.growth,
    goal: "<= 1.5 (~1)", pass: big.growth / small.growth <= 1.5,
  }];
}

export async function figureCoalescing(ctx) {
  const { stack, origin, files, note } = ctx;
  const { path, size } = files.coalesce;
  const clients = 20;
  await origin.control.reset();
  const answers = await Promise.all(Array.from({ length: clients }, (_, i) =>
    httpGet(stack.url("node") + path, { "cf-connecting-ip": `10.5.0.${i + 1}` })));
  const complete = answers.filter((a) => a.status === 200 && a.bytes === size).length;
  const st = await origin.control.stats(path);
  const ratio = st.bodyBytes / size;
  note(`5: ${clients} node:http GETs of a cold ${fmtSize(size)} object started together (CF-Connecting-IP 10.5.0.1..20), ${complete}/${clients} complete; origin saw ${st.gets} GET(s) (${st.rangeGets} range GETs for late joiners' missed prefix), ${st.heads} HEADs, ${(st.bodyBytes / MB).toFixed(1)} MB of body; slowest client ${(Math.max(...answers.map((a) => a.totalMs)) / 1000).toFixed(1)} s.`);
  return [{
    id: "5", what: `origin body bytes, ${clients} concurrent cold clients (x file size)`,
    node: st.bodyBytes / MB, baseline: size / MB, unit: "MB", ratio,
    goal: "<= 1.05", pass: complete === clients && ratio <= 1.05,
  }];
}

export async function figureFirstByte(ctx) {
  const { stack, origin, files, note } = ctx;
  const ip = { "cf-connecting-ip": "10.6.0.1" };
  // Unmeasured warm-up: one cold fill and one origin GET.
  await httpGet(stack.url("node") + files.ttfbWarm.path, ip);
  await httpGet(origin.url + files.ttfbWarm.path);
  const node = [];
  const direct = [];
  for (const [i, pair] of files.ttfb.entries()) {
    const order = i % 2 ? ["node", "direct"] : ["direct", "node"];
    for (const who of order) {
      const r = who === "node"
        ? await httpGet(stack.url("node") + pair.node.path, ip)
        : await httpGet(origin.url + pair.direct.path);
      if (r.status !== 200 || r.bytes !== pair.node.size) throw new Error(`${who} GET: ${r.status}, ${r.bytes} bytes`);
      (who === "node" ? node : direct).push(r.ttfbMs);
    }
  }
  const n = median(node);
  const d = median(direct);
  note(`6: ${files.ttfb.length} cold ${fmtSize(files.ttfb[0].node.size)} objects through "node" vs ${files.ttfb.length} different same-size files straight from the origin, alternating, new connection each, time from request to first body byte, median (node: ${node.map((x) => x.toFixed(1)).join(", ")} ms; origin: ${direct.map((x) => x.toFixed(1)).join(", ")} ms).`);
  return [{
    id: "6", what: "first body byte of a cold object (ms)",
    node: n, baseline: d, unit: "ms", ratio: n - d, ratioIsDelta: true,
    goal: "<= +20 ms", pass: n - d <= 20,
  }];
}
