import { describe, expect, it } from "vitest";
import { bytesEvent, fixedEvents } from "../../../src/stats/answer-counters";
import { cacheStatus } from "../../../src/http/cache-status";
import { answerProfile } from "../../../src/stats/classify";
import { seriesKey } from "../../../src/stats/counters";
import { exposition } from "../../../src/stats/exposition";
import { validateBatch } from "../../../src/stats/validate-batch";
import { parseExposition } from "../../support/exposition-parser";
import { freshStats } from "./support";

/** The Cache-Status class an answer with these headers is counted under. */
const cacheStatusClass = (headers: Headers) => answerProfile(200, headers.get("cache-status")).cacheClass;

/** What the recorder adds for an answer whose client pulled `bytes` body bytes: its profile's counters, then the bytes. */
function answerEvents(res: Response, bytes: number) {
  const profile = answerProfile(res.status, res.headers.get("cache-status"));
  const events = fixedEvents(profile, res.status);
  if ((profile.kind === "copy" || profile.kind === "origin") && bytes > 0) events.splice(1, 0, bytesEvent(profile.kind, bytes));
  for (const e of events) expect(e.key).toBe(seriesKey(e.name, e.labels));
  return events.map(({ name, labels, n }) => ({ name, labels, n }));
}

const answer = (status: number, cs: string | null, length = 100) => {
  const headers = new Headers({ "content-length": String(length) });
  if (cs !== null) headers.set("cache-status", cs);
  return new Response("x", { status, headers });
};

describe("counters: what one answer adds", () => {
  it("classes Cache-Status as hit, the forward reason, or none", () => {
    expect(cacheStatusClass(new Headers({ "cache-status": cacheStatus("n", { hit: true, ttl: 3, detail: "r2" }) }))).toBe("hit");
    expect(cacheStatusClass(new Headers({ "cache-status": cacheStatus("n", { fwd: "stale", fwdStatus: 304 }) }))).toBe("stale");
    expect(cacheStatusClass(new Headers({ "cache-status": "other; hit, n; fwd=miss; stored" }))).toBe("miss");
    expect(cacheStatusClass(new Headers({ "cache-status": "n; fwd=made-up" }))).toBe("none");
    expect(cacheStatusClass(new Headers({ "cache-status": cacheStatus("n", { detail: "concurrency-limit" }) }))).toBe("none");
    expect(cacheStatusClass(new Headers())).toBe("none");
  });

  it("a copy hit: one answer, its bytes from the copy", () => {
    const res = answer(206, cacheStatus("n", { hit: true, ttl: 3, detail: "r2" }), 1000);
    expect(answerEvents(res, 1000)).toEqual([
      { name: "offload_answers_total", labels: { cache_status: "hit", code: "206" }, n: 1 },
      { name: "offload_served_bytes_total", labels: { source: "copy" }, n: 1000 },
    ]);
  });

  it("a guard refusal, an origin error and stale-if-error", () => {
    const refused = answer(503, cacheStatus("n", { detail: "concurrency-limit" }));
    expect(answerEvents(refused, 0)).toEqual([
      { name: "offload_answers_total", labels: { cache_status: "none", code: "503" }, n: 1 },
      { name: "offload_guard_refusals_total", labels: {}, n: 1 },
    ]);
    const failed = answer(502, cacheStatus("n", { fwd: "miss", fwdStatus: 503, detail: "origin-error" }));
    expect(answerEvents(failed, 0)).toContainEqual({ name: "offload_origin_errors_total", labels: { answer: "error" }, n: 1 });
    const stale = answer(200, cacheStatus("n", { fwd: "stale", fwdStatus: 503, detail: "stale-if-error" }), 7);
    expect(answerEvents(stale, 7)).toEqual([
      { name: "offload_answers_total", labels: { cache_status: "stale", code: "200" }, n: 1 },
      { name: "offload_served_bytes_total", labels: { source: "copy" }, n: 7 },
      { name: "offload_origin_errors_total", labels: { answer: "stale" }, n: 1 },
    ]);
  });
});

describe("counters in a batch: checked strictly, stored forever, summed", () => {
  const now = Date.now();
  const bad: [string, unknown, RegExp][] = [
    ["not an array", { buckets: [], counters: {} }, /counters: is not an array/],
    ["unknown name", { buckets: [], counters: [{ name: "offload_nope_total", labels: {}, value: 1 }] }, /counters\[0\]: unknown counter/],
    ["extra label", { buckets: [], counters: [{ name: "offload_guard_refusals_total", labels: { path: "/x" }, value: 1 }] }, /label "path" is not one of/],
    ["missing label", { buckets: [], counters: [{ name: "offload_served_bytes_total", labels: {}, value: 1 }] }, /label source is missing/],
    ["value outside the set", { buckets: [], counters: [{ name: "offload_served_bytes_total", labels: { source: "disk" }, value: 1 }] }, /label source: "disk" is not an allowed value/],
    ["bad status code", { buckets: [], counters: [{ name: "offload_answers_total", labels: { cache_status: "hit", code: "2000" }, value: 1 }] }, /label code/],
    ["negative value", { buckets: [], counters: [{ name: "offload_guard_refusals_total", labels: {}, value: -1 }] }, /counters\[0\]\.value: -1 is outside/],
    ["fractional value", { buckets: [], counters: [{ name: "offload_guard_refusals_total", labels: {}, value: 0.5 }] }, /not a whole number/],
    ["same series twice", { buckets: [], counters: [{ name: "offload_guard_refusals_total", labels: {}, value: 1 }, { name: "offload_guard_refusals_total", labels: {}, value: 1 }] }, /appears twice/],
  ];
  it.each(bad)("refuses %s, naming the field", (_what, input, why) => {
    expect(() => validateBatch(input, now)).toThrow(why);
  });

  it("adds increments per series across batches; a refused batch stores nothing", async () => {
    const s = freshStats();
    const served = (source: string, value: number) => ({ name: "offload_served_bytes_total" as const, labels: { source }, value });
    await s.record({ buckets: [], counters: [served("copy", 10), served("origin", 5)] });
    await s.record({ buckets: [], counters: [served("copy", 7)] });
    // Settled here, not through expect().rejects (which leaves the RPC's promise unhandled).
    const error = await s.record({ buckets: [], counters: [served("copy", 1000), { name: "offload_nope_total", labels: {}, value: 1 }] } as never).then(() => null, (e: unknown) => e);
    expect(String(error)).toMatch(/counters\[1\]: unknown counter/);
    expect(await s.counters()).toEqual([served("copy", 17), served("origin", 5)]);
  });
});

describe("exposition", () => {
  it("escapes HELP and label values so a strict parser reads back the same text", () => {
    const weird = 'a "quoted" \\ back\nslash';
    const text = exposition([{ name: "x_total", help: "line\none \\ two", type: "counter", samples: [{ labels: { v: weird }, value: 3 }] }]);
    const f = parseExposition(text).get("x_total")!;
    expect(f.help).toBe("line\none \\ two");
    expect(f.samples).toEqual([{ labels: { v: weird }, value: 3 }]);
  });
});
