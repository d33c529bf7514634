/**
 * Figure 3: workerd memory per in-flight download, N slow clients of one stored object,
 * node vs the bare R2 pass-through. Each side runs in a fresh workerd (same options,
 * same persist dir), warmed up, so "before" is an idle process that has run the code.
 *
 * Clients talk to workerd's direct socket and set CF-Connecting-IP themselves, one
 * address each (10.3.x.y), so the guard (2 per client + URL) stays on and admits all.
 * Not through the edge front: its Node streams and socket buffers would soak up most
 * of the body, and a download whose body sits in buffers is no longer in flight.
 */
import { openSlowDownloads, steadyRss, stillStreaming, httpGet } from "./clients.mjs";
import { fmtSize } from "./fig-hits.mjs";
import { chunkObjects } from "./cold-util.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const KB = 1024;

export async function figureSlowClients(ctx) {
  const { stack, files, note } = ctx;
  const { path, size } = files.slow;
  const count = 200;
  // Stored by a cold fill through the node: one chunk (the file is below CHUNK_SIZE), so
  // node and baseline each stream one R2 object.
  const fill = await httpGet(stack.url("node") + path, { "cf-connecting-ip": "10.3.255.254" });
  if (fill.status !== 200 || fill.bytes !== size) throw new Error(`fill of ${path}: ${fill.status}, ${fill.bytes} bytes`);
  const { chunks } = await chunkObjects(stack, path);
  if (chunks.length !== 1) throw new Error(`${path} should be one chunk, is ${chunks.length}`);
  const key = chunks[0].key;

  const result = {};
  for (const [who, worker, target] of [["baseline", "bench-r2", `/${key}`], ["node", "node-r2", path]]) {
    await stack.restart();
    const pid = stack.pid();
    const { host, port } = stack.target(worker);
    for (let i = 0; i < 3; i++) {
      const w = await httpGet(`http://${host}:${port}${target}`, { "cf-connecting-ip": `10.3.254.${i + 1}` });
      if (w.status !== 200) throw new Error(`${worker} warm-up: ${w.status}`);
    }
    await sleep(1000);
    const before = await steadyRss(pid, 5, 100);
    const dl = await openSlowDownloads({
      host, port, path: target, count, ipOf: (i) => `10.3.${i >> 8}.${(i & 255) + 1}`, readFirst: 64 * KB,
    });
    try {
      await sleep(2000); // let buffers settle
      const during = await steadyRss(pid, 10, 100);
      const ok = dl.clients.filter((c) => c.status === 200).length;
      const streaming = await stillStreaming(dl.clients, port, size);
      result[who] = { before, during, perDownload: (during - before) / count, ok, streaming };
    } finally {
      dl.close();
    }
  }
  const n = result.node;
  const b = result.baseline;
  note(`3: ${count} raw-socket GETs of the stored ${fmtSize(size)} object (one chunk object in R2), each reads 64 KiB then stops reading; RSS = median of 10 VmRSS readings 2 s after all started, fresh warmed workerd per side. Answered 200: node ${n.ok}/${count}, baseline ${b.ok}/${count}; still in flight (body not yet handed to the kernel): node ${n.streaming}/${count}, baseline ${b.streaming}/${count}. RSS before -> during: node ${mb(n.before)} -> ${mb(n.during)} MB, baseline ${mb(b.before)} -> ${mb(b.during)} MB. Node = "node-r2" (guard on, CF-Connecting-IP 10.3.0.1..10.3.0.200).`);
  const ratio = n.perDownload / b.perDownload;
  const valid = n.ok === count && b.ok === count;
  return [{
    id: "3", what: `workerd RSS per in-flight download, ${count} slow clients`,
    node: n.perDownload / KB, baseline: b.perDownload / KB, unit: "KiB", ratio,
    goal: "<= 1.2", pass: valid ? ratio <= 1.2 : false,
  }];
}

function mb(bytes) {
  return (bytes / 1e6).toFixed(0);
}
