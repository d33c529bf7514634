import { describe, expect, it } from "vitest";
import { cacheStatus, type CacheStatusParams } from "../../../src/http/cache-status";
import { answerProfile, lastCacheStatusMember, servedOf } from "../../../src/stats/classify";

/** What the recorder counts an answer as (its profile, with the declared length). */
const classifyServed = (res: Response) => servedOf(answerProfile(res.status, res.headers.get("cache-status")), res);

/** An answer as the node builds it: real Response, Cache-Status from the same serializer. */
function answer(status: number, params: CacheStatusParams | null, opts: { length?: number | string; body?: boolean } = {}): Response {
  const headers = new Headers();
  if (params) headers.set("cache-status", cacheStatus("test-node", params));
  if (opts.length !== undefined) headers.set("content-length", String(opts.length));
  const withBody = opts.body ?? ![204, 304].includes(status);
  return new Response(withBody ? "x" : null, { status, headers });
}

describe("classifyServed: every Cache-Status the node emits", () => {
  // [what, status, params (as src/node/serve-object.ts and friends pass them), expected kind]
  const counted: [string, number, CacheStatusParams, "copy" | "origin"][] = [
    ["fresh copy in the Cache API", 200, { hit: true, ttl: 30, detail: "cache-api" }, "copy"],
    ["fresh copy in R2", 200, { hit: true, ttl: 0, detail: "r2" }, "copy"],
    ["range of a fresh copy", 206, { hit: true, ttl: 12, detail: "cache-api" }, "copy"],
    ["copy confirmed by the origin (304)", 200, { fwd: "stale", fwdStatus: 304, detail: "cache-api" }, "copy"],
    ["copy confirmed by same validators (200 HEAD)", 200, { fwd: "stale", fwdStatus: 200, detail: "r2" }, "copy"],
    ["stale-if-error", 200, { fwd: "stale", fwdStatus: 503, detail: "stale-if-error" }, "copy"],
    ["new version already in R2 (another node)", 200, { fwd: "miss", fwdStatus: 200, detail: "r2" }, "copy"],
    ["collapsed onto a finished fill", 200, { fwd: "miss", fwdStatus: 200, collapsed: true, detail: "r2" }, "copy"],
    ["live fill", 200, { fwd: "miss", fwdStatus: 200, stored: true, detail: "fill" }, "origin"],
    ["cold range: a slice fill", 206, { fwd: "miss", fwdStatus: 200, stored: true, detail: "fill" }, "origin"],
    ["follower of a fill: chunks read from the store", 200, { fwd: "miss", fwdStatus: 200, collapsed: true, detail: "fill" }, "copy"],
    ["uncacheable pass-through", 200, { fwd: "miss", detail: "no-validator" }, "origin"],
    ["fill found no validator", 200, { fwd: "miss", detail: "no-validator" }, "origin"],
    ["credentials pass-through", 200, { fwd: "request", detail: "credentials" }, "origin"],
    ["other origin status passed through", 200, { fwd: "request", fwdStatus: 200 }, "origin"],
    ["base serving locally", 200, { fwd: "bypass", detail: "small" }, "origin"],
  ];
  it.each(counted)("%s -> %s bytes by Content-Length", (_what, status, params, kind) => {
    expect(classifyServed(answer(status, params, { length: 1234 }))).toEqual({ kind, bytes: 1234 });
  });

  const notCounted: [string, number, CacheStatusParams | null][] = [
    ["304 to a conditional GET", 304, { fwd: "miss", fwdStatus: 200 }],
    ["304 from a copy", 304, { hit: true, ttl: 5, detail: "cache-api" }],
    ["404 from the origin", 404, { fwd: "miss", fwdStatus: 404 }],
    ["410 and copies purged", 410, { fwd: "stale", fwdStatus: 410, detail: "purged" }],
    ["origin down, no copy", 502, { fwd: "miss", fwdStatus: 503, detail: "origin-error" }],
    ["fill failed", 502, { fwd: "miss", detail: "fill-failed" }],
    ["pass-through timed out", 504, { fwd: "miss", detail: "no-validator" }],
    ["416 range not satisfiable from a copy", 416, { hit: true, ttl: 3, detail: "r2" }],
    ["the base's redirect to a node", 307, { fwd: "bypass", detail: "offload=n1" }],
    ["refusal without the guard's detail", 503, { fwd: "miss", detail: "fill-failed" }],
    ["copy changed while read (no Cache-Status)", 503, null],
    ["a 200 without Cache-Status", 200, null],
  ];
  it.each(notCounted)("%s -> not counted", (_what, status, params) => {
    expect(classifyServed(answer(status, params, { length: 10 }))).toBeNull();
  });

  it("counts the guard's 503 detail=concurrency-limit as a refusal of 0 bytes", () => {
    expect(classifyServed(answer(503, { detail: "concurrency-limit" }, { length: 120 }))).toEqual({ kind: "refused", bytes: 0 });
  });

  it("counts bodiless answers (HEAD) as 0 bytes, whatever Content-Length says", () => {
    expect(classifyServed(answer(200, { fwd: "miss", fwdStatus: 200 }, { length: 5_000_000, body: false }))).toEqual({ kind: "origin", bytes: 0 });
    expect(classifyServed(answer(200, { hit: true, ttl: 1, detail: "r2" }, { length: 5_000_000, body: false }))).toEqual({ kind: "copy", bytes: 0 });
  });

  it("counts 0 bytes without a usable Content-Length (chunked pass-through)", () => {
    expect(classifyServed(answer(200, { fwd: "miss", detail: "no-validator" }))).toEqual({ kind: "origin", bytes: 0 });
    expect(classifyServed(answer(200, { fwd: "miss", detail: "no-validator" }, { length: "12, 12" }))).toEqual({ kind: "origin", bytes: 0 });
  });

  it("reads the last Cache-Status member (ours), quoted strings included", () => {
    const res = new Response("x", { headers: { "cache-status": 'origin-cache; hit, test-node; fwd=miss; fwd-status=200; stored', "content-length": "9" } });
    expect(classifyServed(res)).toEqual({ kind: "origin", bytes: 9 });
    const m = lastCacheStatusMember('"odd, id"; key="a;b,c"; detail=r2; hit');
    expect(m?.id).toBe("odd, id");
    expect(Object.fromEntries(m!.params)).toEqual({ key: "a;b,c", detail: "r2", hit: true });
  });
});
