// Issue #12 over real sockets: the local stack exactly as `bash scripts/start` runs it
// (scripts/dev-stack.mjs: demo origin, base, two nodes in one Miniflare, one R2 bucket and
// one set of Durable Objects), a crowd of cold clients from distinct TCP peers, and the
// demo origin's own counters (its control API) as the witness of what the origin sent.
//
// CHUNK_SIZE is 1 MiB here (passed through like every node variable), so a 12 MiB file is
// twelve chunks and the crowd really follows a fill chunk by chunk, cheaply.
import { createHash } from "node:crypto";
import { readFile, rm } from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStackOnFreePorts, stopStack } from "./stack-process.mjs";

const MiB = 1024 * 1024;
const CHUNK = MiB;
const CROWD = 16;
/** FILL_STALL_SECONDS of this stack: long, so a fill that waits for a stall is plain to see. */
const STALL_SECONDS = 30;
/** Of the crowd, every fourth client goes through node-b: one fill across both nodes. */
const THROUGH_B = (i) => i % 4 === 3;

/** One GET over its own connection from `localAddress`: status, headers, length and SHA-256 of the body. */
function download(url, { localAddress, headers = {} }) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { localAddress, headers, agent: false }, (res) => {
      const hash = createHash("sha256");
      let length = 0;
      const parts = [];
      res.on("data", (c) => {
        hash.update(c);
        length += c.length;
        if (headers.range) parts.push(c);
      });
      res.once("end", () => resolve({ status: res.statusCode, headers: res.headers, length, sha256: hash.digest("hex"), body: Buffer.concat(parts) }));
      res.once("error", reject);
    });
    req.once("error", reject);
  });
}

describe("a cold crowd against the local stack (issue #12)", () => {
  let dir;
  let stack;
  let nodeA;
  let nodeB;
  let control;

  /** The demo origin's control API (scripts/origin/control-api.mjs). */
  async function ctl(method, p) {
    const res = await fetch(control + p, { method });
    expect(res.status, `${method} ${p}`).toBe(200);
    return res.json();
  }

  beforeAll(async () => {
    let urls;
    ({ dir, stack, urls } = await startStackOnFreePorts("offload-crowd-", {
      CHUNK_SIZE: String(CHUNK),
      FILL_STALL_SECONDS: String(STALL_SECONDS),
      MAX_CONNECTIONS_PER_CLIENT: "2",
    }));
    [nodeA, nodeB] = urls.nodes;
    control = urls.control;
    await stack.ready;
  });

  afterAll(async () => {
    await stopStack(stack);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it(`${CROWD} concurrent cold clients on two nodes all get the right bytes, and the origin sends one body`, async () => {
    const p = "/crowd/release-12m.bin";
    const file = await ctl("PUT", `/files${p}?size=${12 * MiB}&seed=crowd-release`);
    await ctl("POST", "/reset");
    // A 3 s origin body: every client arrives while the fill is still running, so each
    // one really follows it (the bytes-per-second goals live in scripts/bench-node).
    await ctl("POST", `/behave?path=${encodeURIComponent(p)}&bytesPerSecond=${4 * MiB}`);
    const results = await Promise.all(
      Array.from({ length: CROWD }, (_, i) => download((THROUGH_B(i) ? nodeB : nodeA) + p, { localAddress: `127.0.0.${10 + i}` })),
    );
    for (const [i, r] of results.entries()) {
      expect(r.status, `client ${i}`).toBe(200);
      expect(r.length, `client ${i}`).toBe(file.size);
      expect(r.sha256, `client ${i}`).toBe(file.sha256);
    }
    // Both nodes really took part, and exactly one request fetched from the origin
    // (Cache-Status "stored", RFC 9211 §2.5); every other one followed that fill.
    const statuses = results.map((r) => String(r.headers["cache-status"]));
    expect(statuses.filter((s) => s.startsWith("node-b;")).length).toBe(CROWD / 4);
    expect(statuses.filter((s) => /; stored/.test(s)), statuses.join("\n")).toHaveLength(1);
    for (const s of statuses) expect(s).toMatch(/; detail=fill$/);

    const seen = await ctl("GET", `/stats?path=${encodeURIComponent(p)}`);
    const bodies = seen.recent.filter((e) => e.method === "GET");
    // One origin GET, one body: no prefix Range GETs for late joiners, no second fill.
    expect(bodies.map((e) => ({ range: e.range, bodyBytes: e.bodyBytes }))).toEqual([{ range: null, bodyBytes: file.size }]);
    expect(seen.bodyBytes).toBe(file.size);
    expect(seen.rangeGets).toBe(0);
  });

  it("a cold Range of the end of a file makes the origin send only that slice; a full GET then fetches only the rest", async () => {
    const p = "/crowd/big-32m.bin";
    const file = await ctl("PUT", `/files${p}?size=${32 * MiB}&seed=crowd-big`);
    const bytes = await readFile(path.join(dir, "demo", p));
    await ctl("POST", "/reset");
    // The last 1.5 MiB: the second half of chunk 30 and all of chunk 31.
    const from = file.size - 1.5 * MiB;
    const r = await download(nodeB + p, { localAddress: "127.0.0.40", headers: { range: `bytes=${from}-` } });
    expect(r.status).toBe(206);
    expect(r.headers["content-range"]).toBe(`bytes ${from}-${file.size - 1}/${file.size}`);
    expect(r.body.equals(bytes.subarray(from))).toBe(true);
    // A background fill of the rest would show up here within a moment: wait for it.
    await new Promise((res) => setTimeout(res, 1500));
    const slice = await ctl("GET", `/stats?path=${encodeURIComponent(p)}`);
    const gets = slice.recent.filter((e) => e.method === "GET");
    // One Range GET for the two chunks, guarded by If-Range on the version's validator
    // (RFC 9110 §13.1.5), so a changed file comes back whole and is refused, never mixed.
    expect(gets).toHaveLength(1);
    expect(gets[0].range).toBe(`bytes=${30 * CHUNK}-${file.size - 1}`);
    expect(gets[0].ifRange).toBe(file.etag);
    expect(slice.bodyBytes).toBeLessThanOrEqual(2 * CHUNK);

    const full = await download(nodeA + p, { localAddress: "127.0.0.41" });
    expect([full.status, full.length, full.sha256]).toEqual([200, file.size, file.sha256]);
    const after = await ctl("GET", `/stats?path=${encodeURIComponent(p)}`);
    // Chunks 30 and 31 were not fetched again: the whole file crossed the origin once.
    expect(after.bodyBytes).toBe(file.size);
    const second = after.recent.filter((e) => e.method === "GET").slice(1);
    expect(second.map((e) => e.range)).toEqual([`bytes=0-${30 * CHUNK - 1}`]);
  });

  it("a full GET after a cold Range in the middle fills the chunks on both sides without waiting for a stall", async () => {
    const p = "/crowd/middle-24m.bin";
    const file = await ctl("PUT", `/files${p}?size=${24 * MiB}&seed=crowd-middle`);
    await ctl("POST", "/reset");
    const slice = await download(nodeA + p, { localAddress: "127.0.0.50", headers: { range: `bytes=${10 * CHUNK}-${12 * CHUNK - 1}` } });
    expect(slice.status).toBe(206);
    // Chunks 10 and 11 are stored; 0-9 and 12-23 are missing. A full GET must fetch both
    // runs. Nothing fails here, so the only way to be slow is to sit out FILL_STALL_SECONDS
    // (default 20 s) before someone asks for the second run: that is what the bound catches.
    const started = Date.now();
    const full = await download(nodeB + p, { localAddress: "127.0.0.51" });
    const seconds = (Date.now() - started) / 1000;
    expect([full.status, full.length, full.sha256]).toEqual([200, file.size, file.sha256]);
    const seen = await ctl("GET", `/stats?path=${encodeURIComponent(p)}`);
    expect(seen.recent.filter((e) => e.method === "GET").map((e) => e.range)).toEqual([
      `bytes=${10 * CHUNK}-${12 * CHUNK - 1}`,
      `bytes=0-${10 * CHUNK - 1}`,
      `bytes=${12 * CHUNK}-${file.size - 1}`,
    ]);
    expect(seen.bodyBytes).toBe(file.size);
    expect(seconds, "the full GET waited at the gap after chunk 11 for a stall").toBeLessThan(STALL_SECONDS);
  });
});
