// Bytes delivered and downloads counted over real sockets (issue #15 part 1): the local
// stack as `bash scripts/start` runs it, clients told apart by their source address
// (127.0.0.x: the edge front stamps CF-Connecting-IP from the TCP peer). A full download,
// one aborted after ~1 MiB and four parallel ranges of one client must show in the admin
// API and the metrics as the bytes sent, not the 64 MiB each declared, and as 3 downloads.
import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseExposition, sampleValue } from "../support/exposition-parser.ts";
import { startStackOnFreePorts, stopStack } from "./stack-process.mjs";
import { drain, get } from "./http-get.mjs";

const FILE = "/iso/distro-64m.iso";
const MiB = 1024 * 1024;
/** The nodes' CHUNK_SIZE (the default): delivered bytes count in whole chunks. */
const CHUNK = 8 * MiB;
const SIZE = 64 * MiB; // scripts/stack/demo-files.mjs
const ADMIN_TOKEN = `admin-${randomBytes(12).toString("hex")}`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));



/** Reads at least `bytes` of the body, then drops the connection: a client that gives up. */
function readThenAbort(res, bytes) {
  return new Promise((resolve, reject) => {
    let n = 0;
    res.on("data", (c) => {
      n += c.length;
      if (n >= bytes) {
        res.destroy();
        resolve(n);
      }
    });
    res.once("error", (e) => (n >= bytes ? undefined : reject(e)));
  });
}

describe("delivered bytes and downloads of the local stack", () => {
  let dir;
  let stack;
  let urls;

  beforeAll(async () => {
    ({ dir, stack, urls } = await startStackOnFreePorts("offload-bytes-", { ADMIN_TOKEN, MAX_CONNECTIONS_PER_CLIENT: "4" }));
    await stack.ready;
  });

  afterAll(async () => {
    await stopStack(stack);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const admin = (path) => fetch(`${urls.base}${path}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });

  it("counts a full, an aborted and a ranged download by the bytes sent, and as three downloads", async () => {
    const [nodeA, nodeB] = urls.nodes;
    // 1. One client downloads the whole file through node A (the fill: bytes from the origin).
    const full = await get(nodeA + FILE, { from: "127.0.0.2" });
    expect(full.statusCode).toBe(200);
    expect(await drain(full)).toBe(SIZE);
    // 2. Another gives up after ~1 MiB of the copy: it declared 64 MiB.
    const aborted = await get(nodeA + FILE, { from: "127.0.0.3" });
    expect(aborted.headers["content-length"]).toBe(String(SIZE));
    const read = await readThenAbort(aborted, MiB);
    // 3. A third fetches four ranges at once through node B, as a download accelerator does.
    const ranges = [0, 1, 2, 3].map((i) => `bytes=${i * 16 * MiB}-${i * 16 * MiB + MiB - 1}`);
    const parts = await Promise.all(ranges.map((range) => get(nodeB + FILE, { from: "127.0.0.4", headers: { range } })));
    expect(parts.map((p) => p.statusCode)).toEqual([206, 206, 206, 206]);
    expect(await Promise.all(parts.map(drain))).toEqual([MiB, MiB, MiB, MiB]);

    // Writers flush every 2 s once an answer comes after that (a HEAD: 0 bytes, no download).
    // Each answer is recorded once, when its body ended: node A is complete once it holds
    // more than the full download, node B once it holds its four ranges.
    let stats;
    const row = (key) => stats.breakdowns.nodes.find((r) => r.key === key);
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; await sleep(500)) {
      await Promise.all(urls.nodes.map((n) => fetch(n + FILE, { method: "HEAD" })));
      const res = await admin("/_admin/api/stats?minutes=60&top=10");
      expect(res.status).toBe(200);
      stats = await res.json();
      if (row("node-a")?.downloads === 2 && row("node-b")?.bytes === 4 * MiB) break;
    }
    const { totals, breakdowns } = stats;
    expect(totals.downloads).toBe(3);
    expect(totals.originBytes).toBe(SIZE);
    const abortedBytes = totals.copyBytes - 4 * MiB;
    // Whole chunks (8 MiB by default) the client's connection took before it left, never
    // the declared 64 MiB: what it read, less the chunk it left in (sockets and the edge
    // front may have taken one more ahead of it).
    expect(abortedBytes % CHUNK).toBe(0);
    expect(abortedBytes).toBeGreaterThanOrEqual(read - CHUNK);
    expect(abortedBytes).toBeLessThanOrEqual(read + 2 * CHUNK);
    expect(abortedBytes).toBeLessThan(SIZE / 2);

    const node = (key) => breakdowns.nodes.find((r) => r.key === key);
    expect(node("node-a")).toEqual({ key: "node-a", bytes: SIZE + abortedBytes, copyBytes: abortedBytes, downloads: 2 });
    expect(node("node-b")).toEqual({ key: "node-b", bytes: 4 * MiB, copyBytes: 4 * MiB, downloads: 1 });
    // Every request came from one machine: one country (request.cf.country, "XX" when unknown).
    expect(breakdowns.countries).toHaveLength(1);
    expect(breakdowns.countries[0]).toMatchObject({ bytes: SIZE + abortedBytes + 4 * MiB, copyBytes: abortedBytes + 4 * MiB, downloads: 3 });
    expect(breakdowns.countries[0].key).toMatch(/^[A-Z0-9]{2}$/);
    const classes = Object.fromEntries(breakdowns.classes.map((r) => [r.key, r]));
    expect(classes.miss).toMatchObject({ bytes: SIZE, copyBytes: 0, downloads: 1 });
    expect(breakdowns.classes.reduce((n, r) => n + r.downloads, 0)).toBe(3);
    expect(stats.top.find((f) => f.path === FILE)).toMatchObject({ bytes: SIZE + abortedBytes + 4 * MiB });

    // The Prometheus byte counter counts the same delivered bytes.
    const metrics = await admin("/_admin/metrics");
    expect(metrics.status).toBe(200);
    const families = parseExposition(await metrics.text());
    expect(sampleValue(families, "offload_served_bytes_total", { source: "origin" })).toBe(SIZE);
    expect(sampleValue(families, "offload_served_bytes_total", { source: "copy" })).toBe(abortedBytes + 4 * MiB);
    expect(sampleValue(families, "offload_downloads_total", {})).toBe(3);
  });
});
