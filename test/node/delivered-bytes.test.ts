// Offload totals count the body bytes a client pulled (issue #15 part 1), end to end: the
// node under test answers, platform/counted-body.ts counts, the base's real OffloadStats
// (test/node/stats-base-worker.mjs) adds up. Each test runs the node under its own
// NODE_ID, so its row of the per-node breakdown holds exactly its own traffic.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { OffloadStats } from "../../src/stats/offload-stats";
import type { BreakdownRow } from "../../src/stats/types";
import { envWithVars, fetchWithEnv } from "../support/app";
import { eventually, streamSha256 } from "../support/node";
import { putBody, putFile, uniquePath } from "../support/origin";

const ns = (env as unknown as { STATS: DurableObjectNamespace<OffloadStats> }).STATS;
const summary = () => ns.get(ns.idFromName("offload-stats")).summary({ minutes: 5, top: 100 });
const MiB = 1024 * 1024;

/** A node of its own: fetches under a fresh NODE_ID, flushing after every answer. */
function ownNode() {
  const nodeId = `bytes-${crypto.randomUUID().slice(0, 8)}`;
  // Room for one client's parallel ranges (the guard is not under test here).
  // One env for all its requests, as one deployment's isolate has: what the isolate keeps
  // per env (the download ids' client halves among it) is kept across them.
  const e = envWithVars({ STATS_FLUSH_SECONDS: "0", NODE_ID: nodeId, MAX_CONNECTIONS_PER_CLIENT: "8" });
  const row = async (): Promise<BreakdownRow | undefined> => (await summary()).breakdowns.nodes.find((r) => r.key === nodeId);
  return { nodeId, get: (path: string, init: Parameters<typeof fetchWithEnv>[2] = {}) => fetchWithEnv(e, path, init), row };
}

/** This node's row once its downloads reach `downloads` and its bytes stop changing. */
async function settled(node: ReturnType<typeof ownNode>, downloads: number): Promise<BreakdownRow> {
  let last = -1;
  return eventually(async () => {
    const r = await node.row();
    if (!r || r.downloads < downloads || r.bytes !== last) {
      last = r?.bytes ?? -1;
      return undefined;
    }
    return r;
  });
}

describe("bytes delivered, not declared", () => {
  it("counts a full read in full, from the origin on a fill and from the copy after", async () => {
    const node = ownNode();
    const path = uniquePath("full.bin");
    const file = await putFile(path, 3 * MiB + 7);
    expect((await streamSha256(await node.get(path, { ip: "198.51.100.70" }))).bytes).toBe(file.size);
    expect((await streamSha256(await node.get(path, { ip: "198.51.100.71" }))).bytes).toBe(file.size);
    const row = await settled(node, 2);
    expect(row).toEqual({ key: node.nodeId, bytes: 2 * file.size, copyBytes: file.size, downloads: 2 });
    const top = (await summary()).top.find((f) => f.path === path);
    expect(top).toEqual({ path, bytes: 2 * file.size, responses: 2, copyBytes: file.size });
  });

  it("counts an aborted download by what was read, not by its Content-Length", async () => {
    const node = ownNode();
    const path = uniquePath("aborted.bin");
    const file = await putFile(path, 8 * MiB);
    await streamSha256(await node.get(path, { ip: "198.51.100.72" })); // stored
    const before = (await settled(node, 1)).bytes;
    const res = await node.get(path, { ip: "198.51.100.73" });
    expect(res.headers.get("content-length")).toBe(String(file.size));
    const reader = res.body!.getReader();
    let read = 0;
    while (read < MiB) read += (await reader.read()).value!.byteLength;
    await reader.cancel();
    const row = await settled(node, 2);
    const counted = row.bytes - before;
    // Whole chunks (CHUNK_SIZE 1 MiB in the tests) the client took: what was read, less
    // the chunk it left in; what the runtime took ahead of the reader may count one more.
    expect(counted % MiB).toBe(0);
    expect(counted).toBeGreaterThanOrEqual(read - MiB);
    expect(counted).toBeLessThanOrEqual(read + MiB);
    expect(counted).toBeLessThan(file.size / 2);
  });

  it("counts a range by its bytes, a HEAD and an empty file as 0, each range of one client once as a download", async () => {
    const node = ownNode();
    const path = uniquePath("ranges.bin");
    const file = await putFile(path, 2 * MiB);
    const ip = "198.51.100.74";
    await streamSha256(await node.get(path, { ip })); // the fill: download 1, file.size bytes
    const ranges = ["bytes=0-99999", "bytes=100000-1099999", "bytes=1100000-"];
    const parts = await Promise.all(ranges.map((range) => node.get(path, { ip, headers: { range } })));
    expect(parts.map((p) => p.status)).toEqual([206, 206, 206]);
    const sizes = await Promise.all(parts.map(async (p) => (await streamSha256(p)).bytes));
    expect(sizes).toEqual([100_000, 1_000_000, file.size - 1_100_000]);
    const head = await node.get(path, { ip, method: "HEAD" });
    expect(head.status).toBe(200);
    const empty = uniquePath("empty.bin");
    await putBody(empty, "");
    expect((await streamSha256(await node.get(empty, { ip }))).bytes).toBe(0);
    await eventually(async () => (await summary()).top.find((f) => f.path === path)?.responses === 5); // the HEAD is an answer too
    const row = await settled(node, 2);
    // The fill plus the three ranges: two files' downloads for this one client, not five.
    expect(row).toEqual({ key: node.nodeId, bytes: 2 * file.size, copyBytes: file.size, downloads: 2 });
  });

  it("counts a multipart/byteranges answer (RFC 9110 §14.6) by the body bytes sent, part headers and boundaries included", async () => {
    const node = ownNode();
    const path = uniquePath("multi.bin");
    await putFile(path, 3 * MiB);
    await streamSha256(await node.get(path, { ip: "198.51.100.75" }));
    const before = (await settled(node, 1)).bytes;
    const res = await node.get(path, { ip: "198.51.100.75", headers: { range: "bytes=0-99999,2000000-2199999" } });
    expect(res.status).toBe(206);
    expect(res.headers.get("content-type")).toMatch(/^multipart\/byteranges/);
    const body = await streamSha256(res);
    expect(body.bytes).toBeGreaterThan(300_000);
    await eventually(async () => ((await node.row())?.bytes ?? 0) > before);
    const row = await settled(node, 1);
    expect(row.bytes - before).toBe(body.bytes);
    // The same client and version: still one download.
    expect(row.downloads).toBe(1);
  });

  it("counts two clients as two downloads, and a new version as a new one", async () => {
    const node = ownNode();
    const path = uniquePath("versions.bin");
    await putFile(path, 100_000, { seed: 1, mtime: 1_700_000_000 });
    for (const ip of ["198.51.100.80", "198.51.100.81", "198.51.100.80"]) await streamSha256(await node.get(path, { ip }));
    expect((await settled(node, 2)).downloads).toBe(2);
    await putFile(path, 100_001, { seed: 2, mtime: 1_700_000_100 });
    // REVALIDATE_SECONDS=0: the node sees the new version at once.
    expect((await streamSha256(await node.get(path, { ip: "198.51.100.80" }))).bytes).toBe(100_001);
    expect((await settled(node, 3)).downloads).toBe(3);
  });

  it("counts small answers (counted by their length, recorded at once) per client and version like big ones", async () => {
    const node = ownNode();
    const path = uniquePath("small.bin");
    const file = await putFile(path, 1024);
    // A client's first answer waits for its id half; its repeats are recorded at once
    // with the half kept (under the address as sent): both must make the same id, so the
    // repeats start no download, nor do other spellings of the client (IPv4-mapped, the
    // same IPv6 /64), whose halves are computed again from the same key.
    const clients = ["198.51.100.90", "198.51.100.90", "198.51.100.91", "198.51.100.90", "::ffff:198.51.100.91", "2001:db8:0:7::1", "2001:db8:0:7::2", "2001:DB8:0:7::1"];
    for (const ip of clients) expect((await streamSha256(await node.get(path, { ip }))).bytes).toBe(file.size);
    expect((await node.get(path, { ip: "198.51.100.92", method: "HEAD" })).status).toBe(200); // no download
    await eventually(async () => (await summary()).top.find((f) => f.path === path)?.responses === clients.length + 1);
    const row = await settled(node, 3);
    expect(row).toEqual({ key: node.nodeId, bytes: clients.length * file.size, copyBytes: (clients.length - 1) * file.size, downloads: 3 });
  });
});
