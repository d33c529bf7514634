/**
 * Figure 3: workerd memory per in-flight download, N slow clients of one stored object,
 * node vs the bare R2 pass-through. Each pass runs in a fresh workerd (same options,
 * same persist dir), warmed up, so "before" is an idle process that has run the code.
 *
 *   3   a one-chunk file: node and baseline each stream the same single R2 object.
 *   3b  a two-chunk file: the node joins its chunk objects (store/chunk-stream.ts); the
 *       baseline streams the same bytes as ONE R2 object, which is what a node served
 *       before chunking, so the ratio is "chunked node vs the pre-chunking pass-through".
 *
 * Locally the guard's ConcurrencyLimiter objects (one per client + path, so one per slow
 * client here) live in the same workerd process as the node; on Cloudflare each Durable
 * Object runs apart from the Worker that calls it. So the figure is the node's own share,
 * by this stated method: the node as configured (guard on) minus the same number of
 * limiter objects weighed alone (a fresh warmed workerd, bench-admin takes one lease in
 * each of COUNT new objects, nothing streams, same RSS readings). What stays in the
 * figure of the guard is its work inside the node's isolate (the lease calls, the one
 * native stage that tells it when a body ends, limits/lease.ts). The node is also
 * measured with MAX_CONNECTIONS_PER_CLIENT=0 (guard off), for the note.
 *
 * Clients talk to workerd's direct socket and set CF-Connecting-IP themselves, one
 * address each (10.3.x.y), so the guard (2 per client + URL) stays on and admits all.
 * Not through the edge front: its Node streams and socket buffers would soak up most
 * of the body, and a download whose body sits in buffers is no longer in flight.
 */
import { openSlowDownloads, steadyRss, stillStreaming, httpGet } from "./clients.mjs";
import { fmtSize } from "./fig-hits.mjs";
import { chunkObjects, waitStored } from "./cold-util.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const KB = 1024;
const COUNT = 200;
const GUARD_OFF = { MAX_CONNECTIONS_PER_CLIENT: "0" };

export async function figureSlowClients(ctx) {
  const { stack, files, origin, chunkSize } = ctx;
  const one = files.slow;
  // Stored by a cold fill through the node: one chunk (the file is below CHUNK_SIZE).
  const oneKeys = await storeThroughNode(stack, one, 1);
  const two = { path: "/slow-2chunks.bin", size: chunkSize + chunkSize / 2 };
  await origin.control.createFile(two.path, two.size);
  const twoKeys = await storeThroughNode(stack, two, 2);
  // The baseline's single object with the two chunks' bytes.
  const whole = `whole${two.path}`;
  const put = await fetch(`${stack.url("bench-admin")}/r2-concat`, { method: "POST", body: JSON.stringify({ keys: twoKeys, as: whole }) });
  if (!put.ok) throw new Error(`joining ${two.path}'s chunks for the baseline: ${put.status} ${await put.text()}`);

  const limiters = await limiterObjects(stack);
  const rows = [];
  for (const [id, file, baselineKey] of [["3", one, oneKeys[0]], ["3b", two, whole]]) {
    const baseline = await slowClients(stack, { worker: "bench-r2", target: `/${baselineKey}`, size: file.size });
    const bare = await slowClients(stack, { worker: "node-r2", target: file.path, size: file.size, nodeVars: GUARD_OFF });
    // Last, so the node workers keep their configured vars for the figures after this one.
    const node = await slowClients(stack, { worker: "node-r2", target: file.path, size: file.size, nodeVars: {} });
    rows.push(row(ctx, { id, file, node, bare, baseline, limiters }));
  }
  return rows;
}

/** GET `file` through the node until stored; its chunk object keys (`chunks` of them). */
async function storeThroughNode(stack, file, chunks) {
  const fill = await httpGet(stack.url("node") + file.path, { "cf-connecting-ip": "10.3.255.254" });
  if (fill.status !== 200 || fill.bytes !== file.size) throw new Error(`fill of ${file.path}: ${fill.status}, ${fill.bytes} bytes`);
  await waitStored(stack, file.path);
  const keys = (await chunkObjects(stack, file.path)).chunks.map((c) => c.key);
  if (keys.length !== chunks) throw new Error(`${file.path} should be ${chunks} chunk(s), is ${keys.length}`);
  return keys;
}

/** COUNT slow downloads of `target` from `worker` in a fresh, warmed workerd: RSS before and during. */
async function slowClients(stack, { worker, target, size, nodeVars }) {
  await stack.restart({ nodeVars });
  const pid = stack.pid();
  const { host, port } = stack.target(worker);
  for (let i = 0; i < 3; i++) {
    const w = await httpGet(`http://${host}:${port}${target}`, { "cf-connecting-ip": `10.3.254.${i + 1}` });
    if (w.status !== 200) throw new Error(`${worker} warm-up: ${w.status}`);
  }
  await sleep(1000);
  const before = await steadyRss(pid, 5, 100);
  const dl = await openSlowDownloads({ host, port, path: target, count: COUNT, ipOf: (i) => `10.3.${i >> 8}.${(i & 255) + 1}`, readFirst: 64 * KB });
  try {
    await sleep(2000); // let buffers settle
    const during = await steadyRss(pid, 10, 100);
    const ok = dl.clients.filter((c) => c.status === 200).length;
    const streaming = await stillStreaming(dl.clients, port, size);
    return { before, during, perDownload: (during - before) / COUNT, ok, streaming };
  } finally {
    dl.close();
  }
}

/** RSS per ConcurrencyLimiter object holding one lease, COUNT fresh objects in a fresh warmed workerd. */
async function limiterObjects(stack) {
  await stack.restart({ nodeVars: {} });
  const pid = stack.pid();
  const take = async (count, prefix) => {
    const r = await fetch(`${stack.url("bench-admin")}/limiters`, { method: "POST", body: JSON.stringify({ count, prefix, limit: 2, ttlMs: 600_000 }) });
    if (!r.ok) throw new Error(`bench-admin /limiters: ${r.status} ${await r.text()}`);
    const { held } = await r.json();
    if (held !== count) throw new Error(`bench-admin /limiters: ${held} of ${count} leases held`);
  };
  await take(3, "warm "); // the class's code and storage are loaded before "before"
  await sleep(1000);
  const before = await steadyRss(pid, 5, 100);
  await take(COUNT, "weighed ");
  await sleep(2000);
  const during = await steadyRss(pid, 10, 100);
  return { before, during, perObject: (during - before) / COUNT };
}

function row({ note }, { id, file, node: n, bare, baseline: b, limiters }) {
  const what = id === "3" ? "one R2 object each" : "node: 2 chunk objects joined; baseline: the same bytes as one R2 object";
  const kib = (bytes) => (bytes / KB).toFixed(0);
  note(`${id}: ${COUNT} raw-socket GETs of the stored ${fmtSize(file.size)} object (${what}), each reads 64 KiB then stops reading; RSS = median of 10 VmRSS readings 2 s after all started, fresh warmed workerd per pass. Answered 200: node ${n.ok}/${COUNT}, guard off ${bare.ok}/${COUNT}, baseline ${b.ok}/${COUNT}; still in flight (body not yet handed to the kernel): node ${n.streaming}/${COUNT}, baseline ${b.streaming}/${COUNT}. RSS before -> during: node ${mb(n.before)} -> ${mb(n.during)} MB, baseline ${mb(b.before)} -> ${mb(b.during)} MB. Node = "node-r2" (guard on, CF-Connecting-IP 10.3.0.1..10.3.0.200). Per download: node ${kib(n.perDownload)} KiB = guard off ${kib(bare.perDownload)} KiB (${(bare.perDownload / b.perDownload).toFixed(2)}x the baseline) + guard ${kib(n.perDownload - bare.perDownload)} KiB (its limiter objects, in this process only locally, and its one native stage).`);
  const own = n.perDownload - limiters.perObject;
  note(`${id}: node's own share = node ${kib(n.perDownload)} KiB - ${kib(limiters.perObject)} KiB per limiter object weighed alone (${COUNT} objects with one lease each, RSS ${mb(limiters.before)} -> ${mb(limiters.during)} MB) = ${kib(own)} KiB per download.`);
  const ratio = own / b.perDownload;
  const valid = n.ok === COUNT && b.ok === COUNT;
  return {
    id, what: `workerd RSS per in-flight download, ${COUNT} slow clients, node's own share${id === "3" ? "" : ", 2-chunk file vs one object"}`,
    node: own / KB, baseline: b.perDownload / KB, unit: "KiB", ratio,
    goal: "<= 1.2", pass: valid ? ratio <= 1.2 : false,
  };
}

function mb(bytes) {
  return (bytes / 1e6).toFixed(0);
}
