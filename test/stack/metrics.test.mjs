// GET /_admin/metrics against the local stack exactly as `bash scripts/start` runs it,
// over real sockets: known traffic through a node (an origin fill, copy hits, a range, a
// guard refusal), then the scrape, parsed by the strict exposition parser, must show
// exactly that traffic in its counters (flushed every STATS_FLUSH_SECONDS = 2 s locally).
import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseExposition, sampleValue } from "../support/exposition-parser.ts";
import { startStackOnFreePorts, stopStack } from "./stack-process.mjs";
import { drain, get } from "./http-get.mjs";

// Big enough that a paused download stays in flight (a few MiB fit in socket buffers).
const FILE = "/iso/distro-64m.iso";
const SIZE = 64 * 1024 * 1024; // scripts/stack/demo-files.mjs
const ADMIN_TOKEN = `admin-${randomBytes(12).toString("hex")}`;



describe("Prometheus metrics of the local stack", () => {
  let dir;
  let stack;
  let base;
  let nodeA;

  beforeAll(async () => {
    let urls;
    ({ dir, stack, urls } = await startStackOnFreePorts("offload-metrics-", {
      CRON_EVERY_SECONDS: "1",
      ADMIN_TOKEN,
      MAX_CONNECTIONS_PER_CLIENT: "2",
    }));
    base = urls.base;
    nodeA = urls.nodes[0];
    await stack.ready;
  });

  afterAll(async () => {
    await stopStack(stack);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function scrape() {
    const res = await fetch(`${base}/_admin/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    return parseExposition(await res.text());
  }

  it("refuses a scrape without the admin token", async () => {
    const res = await fetch(`${base}/_admin/metrics`);
    expect(res.status).toBe(401);
    expect(await res.text()).not.toContain("offload_");
  });

  it("counts a fill, copy downloads, a range and a guard refusal exactly as sent", async () => {
    const before = await scrape();
    const v = (f, name, labels = {}) => sampleValue(f, name, labels) ?? 0;
    const sum = (f, name, pick) => (f.get(name)?.samples ?? []).filter((s) => pick(s.labels)).reduce((n, s) => n + s.value, 0);
    const delta = (after, name, labels) => v(after, name, labels) - v(before, name, labels);
    const answers = (f, code) => sum(f, "offload_answers_total", (l) => l.code === code);

    // 1. Cold: the node fills from the origin while it answers (bytes from the origin).
    const fill = await get(nodeA + FILE);
    expect(fill.statusCode).toBe(200);
    expect(fill.headers["cache-status"]).toMatch(/fwd=miss; fwd-status=200; stored/);
    expect(await drain(fill)).toBe(SIZE);
    // 2. Warm: a range from the copy.
    const range = await get(nodeA + FILE, { headers: { range: "bytes=0-999" } });
    expect(range.statusCode).toBe(206);
    expect(await drain(range)).toBe(1000);
    // 3. One client with both of its slots (MAX_CONNECTIONS_PER_CLIENT=2) busy: its third is refused.
    const held = [await get(nodeA + FILE), await get(nodeA + FILE)];
    for (const h of held) h.pause();
    const refused = await get(nodeA + FILE);
    expect(refused.statusCode).toBe(503);
    await drain(refused);
    // Read to the end, so the counts are the same whether bytes are declared or pulled.
    for (const h of held) expect(await drain(h)).toBe(SIZE);

    // The writers flush every 2 s (and the fill's coordinator with its own batches): poll, bounded.
    let after = before;
    for (let i = 0; i < 60; i++) {
      after = await scrape();
      const done = answers(after, "200") - answers(before, "200") >= 3 && answers(after, "503") - answers(before, "503") >= 1 && delta(after, "offload_fills_completed_total") >= 1;
      if (done) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(answers(after, "200") - answers(before, "200")).toBe(3);
    expect(answers(after, "206") - answers(before, "206")).toBe(1);
    expect(answers(after, "503") - answers(before, "503")).toBe(1);
    expect(delta(after, "offload_answers_total", { cache_status: "miss", code: "200" })).toBe(1);
    expect(delta(after, "offload_served_bytes_total", { source: "origin" })).toBe(SIZE);
    expect(delta(after, "offload_served_bytes_total", { source: "copy" })).toBe(2 * SIZE + 1000);
    expect(delta(after, "offload_guard_refusals_total")).toBe(1);
    expect(delta(after, "offload_fills_started_total")).toBe(1);
    expect(delta(after, "offload_fills_completed_total")).toBe(1);
    expect(delta(after, "offload_fills_failed_total")).toBe(0);
    expect(delta(after, "offload_origin_errors_total", { answer: "error" })).toBe(0);
    // Gauges: the local stack's two nodes, both up; nothing filling any more.
    expect(v(after, "offload_targets", { kind: "node" })).toBe(2);
    expect(v(after, "offload_targets_up", { kind: "node" })).toBe(2);
    expect(v(after, "offload_fills_in_progress")).toBe(0);
  });
});
