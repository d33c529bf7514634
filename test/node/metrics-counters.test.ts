import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { CounterName, CounterSample } from "../../src/stats/counters";
import type { OffloadStats } from "../../src/stats/offload-stats";
import { fetchWithVars } from "../support/app";
import { eventually, streamSha256 } from "../support/node";
import { behave, putFile, uniquePath } from "../support/origin";

// The base worker's real OffloadStats (scripts/stack/stats-worker.mjs), where the
// FillCoordinator's counters arrive (flushed with its isolate's batches, default 10 s).
const ns = (env as unknown as { STATS: DurableObjectNamespace<OffloadStats> }).STATS;
const counters = async () => (await ns.get(ns.idFromName("offload-stats")).counters()) as CounterSample[];
const total = (all: CounterSample[], name: CounterName) => all.filter((c) => c.name === name).reduce((n, c) => n + c.value, 0);

describe("node -> the metrics counters", () => {
  it("counts one started and one completed fill for a cold file, however many clients joined it", async () => {
    const path = uniquePath("fill-counted.bin");
    const file = await putFile(path, 3 * 1024 * 1024 + 1);
    const before = await counters();
    const vars = { STATS_FLUSH_SECONDS: "0" };
    // Three clients at once: one fill, the others follow it.
    const answers = await Promise.all(["198.51.100.71", "198.51.100.72", "198.51.100.73"].map((ip) => fetchWithVars(vars, path, { ip })));
    for (const a of answers) expect((await streamSha256(a)).bytes).toBe(file.size);
    const after = await eventually(async () => {
      const now = await counters();
      return total(now, "offload_fills_completed_total") > total(before, "offload_fills_completed_total") ? now : undefined;
    }, 20_000);
    expect(total(after, "offload_fills_started_total") - total(before, "offload_fills_started_total")).toBe(1);
    expect(total(after, "offload_fills_completed_total") - total(before, "offload_fills_completed_total")).toBe(1);
    expect(total(after, "offload_fills_failed_total")).toBe(total(before, "offload_fills_failed_total"));
    // The answers' own counters, from the node's recorder: three answers of 200, all bytes counted once each.
    const answered = after.filter((c) => c.name === "offload_answers_total" && c.labels.code === "200").reduce((n, c) => n + c.value, 0);
    const answeredBefore = before.filter((c) => c.name === "offload_answers_total" && c.labels.code === "200").reduce((n, c) => n + c.value, 0);
    expect(answered - answeredBefore).toBe(3);
  });

  it("counts origin failures: a stale copy instead (stale-if-error) and an error page", async () => {
    const vars = { STATS_FLUSH_SECONDS: "0" };
    const stored = uniquePath("sie-counted.bin");
    const cold = uniquePath("error-counted.bin");
    await putFile(stored, 20_000);
    await putFile(cold, 20_000);
    await streamSha256(await fetchWithVars(vars, stored));
    await behave(stored, { status: 503 });
    await behave(cold, { status: 503 });
    const before = await counters();
    const errors = (all: CounterSample[], answer: string) => all.find((c) => c.name === "offload_origin_errors_total" && c.labels.answer === answer)?.value ?? 0;
    const stale = await fetchWithVars(vars, stored);
    expect(stale.headers.get("cache-status")).toContain("detail=stale-if-error");
    await stale.arrayBuffer();
    const failed = await fetchWithVars(vars, cold);
    expect(failed.headers.get("cache-status")).toContain("detail=origin-error");
    await failed.arrayBuffer();
    const after = await eventually(async () => {
      const now = await counters();
      return errors(now, "stale") > errors(before, "stale") && errors(now, "error") > errors(before, "error") ? now : undefined;
    });
    expect(errors(after, "stale") - errors(before, "stale")).toBe(1);
    expect(errors(after, "error") - errors(before, "error")).toBe(1);
  });
});
