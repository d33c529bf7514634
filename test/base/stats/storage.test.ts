import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { FILES_PER_HOUR, type OffloadStats } from "../../../src/stats/offload-stats";
import type { StatsBatch } from "../../../src/stats/types";
import { batch, bucket, file, freshStats, HOUR, minuteAgo } from "./support";

/** Rows as stored (real SQLite storage of the object, read inside it). */
function rows(s: DurableObjectStub<OffloadStats>, sql: string): Promise<Record<string, SqlStorageValue>[]> {
  return runInDurableObject(s, (_o: OffloadStats, state) => state.storage.sql.exec(sql).toArray());
}

describe("OffloadStats: retention and bounds", () => {
  it("keeps 48 hours: older minutes and file hours are pruned on write", async () => {
    const s = freshStats();
    const kept = minuteAgo(47 * 60);
    const old = minuteAgo(49 * 60);
    await s.record(batch(
      bucket(old, { originBytes: 7, originResponses: 1, files: [file("/old", 7)] }),
      bucket(kept, { copyBytes: 5, copyResponses: 1, files: [file("/kept", 5, 1, 5)] }),
    ));
    expect(await rows(s, "SELECT minute FROM minutes")).toEqual([{ minute: kept }]);
    expect(await rows(s, "SELECT path FROM file_hours")).toEqual([{ path: "/kept" }]);

    // Rows already stored age out too: seed some from 50 h ago, then any write prunes them.
    const ancient = minuteAgo(50 * 60);
    await runInDurableObject(s, (_o: OffloadStats, state) => {
      state.storage.sql.exec("INSERT INTO minutes VALUES (?, 1, 1, 1, 1, 0)", ancient);
      state.storage.sql.exec("INSERT INTO file_hours VALUES (?, '/ancient', 1, 1, 1)", ancient - (ancient % HOUR));
    });
    expect(await rows(s, "SELECT count(*) AS n FROM minutes")).toEqual([{ n: 2 }]);
    const recent = minuteAgo(1);
    await s.record(batch(bucket(recent, { copyBytes: 1, copyResponses: 1 })));
    expect(await rows(s, "SELECT minute FROM minutes ORDER BY minute")).toEqual([{ minute: kept }, { minute: recent }]);
    expect(await rows(s, "SELECT path FROM file_hours")).toEqual([{ path: "/kept" }]);

    const sum = await s.summary({ minutes: 2880, top: 10 });
    expect(sum.totals).toMatchObject({ copyBytes: 6, originBytes: 0, copyResponses: 2, originResponses: 0 });
  });

  it(`keeps at most ${FILES_PER_HOUR} files per hour, the ones with most bytes`, async () => {
    const s = freshStats();
    const m = minuteAgo(1);
    const files = Array.from({ length: FILES_PER_HOUR + 10 }, (_, i) => file(`/n/${i}`, i + 1));
    await s.record(batch(bucket(m, { files })));
    const hour = m - (m % HOUR);
    expect(await rows(s, `SELECT count(*) AS n, min(bytes) AS least FROM file_hours WHERE hour = ${hour}`)).toEqual([{ n: FILES_PER_HOUR, least: 11 }]);
  });
});

describe("OffloadStats: bad batches", () => {
  const good = () => bucket(minuteAgo(1), { copyBytes: 10, copyResponses: 1, files: [file("/ok", 10, 1, 10)] });
  const withSecond = (second: Record<string, unknown>) => ({ buckets: [good(), { ...good(), ...second }] }) as unknown as StatsBatch;
  const cases: [string, unknown, RegExp][] = [
    ["negative bytes", withSecond({ copyBytes: -1 }), /buckets\[1\]\.copyBytes: -1 is outside/],
    ["NaN answers", withSecond({ originResponses: Number.NaN }), /buckets\[1\]\.originResponses: NaN is not a whole number/],
    ["infinite bytes", withSecond({ originBytes: Number.POSITIVE_INFINITY }), /buckets\[1\]\.originBytes: Infinity/],
    ["huge bytes", withSecond({ copyBytes: 2 ** 60 }), /buckets\[1\]\.copyBytes: .* is outside/],
    ["fractional refusals", withSecond({ refusals: 1.5 }), /buckets\[1\]\.refusals: 1\.5 is not a whole number/],
    ["unaligned minute", withSecond({ minute: minuteAgo(1) + 1 }), /buckets\[1\]\.minute: .* not the start of a minute/],
    ["future minute", withSecond({ minute: minuteAgo(-60) }), /buckets\[1\]\.minute: .* in the future/],
    ["over-long path", withSecond({ files: [file(`/${"x".repeat(5000)}`, 1)] }), /buckets\[1\]\.files\[0\]\.path: longer than 2048/],
    ["relative path", withSecond({ files: [file("x", 1)] }), /buckets\[1\]\.files\[0\]\.path: must be a string starting with \//],
    ["copy bytes above bytes", withSecond({ files: [file("/x", 1, 1, 2)] }), /buckets\[1\]\.files\[0\]\.copyBytes: 2 exceeds bytes/],
    ["files not a list", withSecond({ files: "nope" }), /buckets\[1\]\.files: is not an array/],
    ["unknown breakdown", withSecond({ breakdowns: [{ dimension: "city", key: "Paris", bytes: 1, copyBytes: 0 }] }), /buckets\[1\]\.breakdowns\[0\]\.dimension: must be one of node, country, class/],
    ["bad country", withSecond({ breakdowns: [{ dimension: "country", key: "France", bytes: 1, copyBytes: 0 }] }), /buckets\[1\]\.breakdowns\[0\]\.key: must be a two-letter country code/],
    ["unknown class", withSecond({ breakdowns: [{ dimension: "class", key: "warm", bytes: 1, copyBytes: 0 }] }), /buckets\[1\]\.breakdowns\[0\]\.key: must be one of hit/],
    ["breakdown copy above bytes", withSecond({ breakdowns: [{ dimension: "node", key: "n1", bytes: 1, copyBytes: 2 }] }), /buckets\[1\]\.breakdowns\[0\]\.copyBytes: 2 exceeds bytes/],
    ["breakdowns not a list", withSecond({ breakdowns: {} }), /buckets\[1\]\.breakdowns: is not an array/],
    ["an address as a download id", withSecond({ downloads: [{ id: "198.51.100.7", node: "n1", country: "DE", class: "hit" }] }), /buckets\[1\]\.downloads\[0\]\.id: must be 32 lowercase hex digits/],
    ["a download without a node", withSecond({ downloads: [{ id: "0".repeat(32), country: "DE", class: "hit" }] }), /buckets\[1\]\.downloads\[0\]\.node: is not a string/],
    ["a download of an unknown class", withSecond({ downloads: [{ id: "0".repeat(32), node: "n1", country: "DE", class: "cold" }] }), /buckets\[1\]\.downloads\[0\]\.class: must be one of/],
    ["no buckets", { minute: 0 }, /buckets: is not an array/],
    ["too many files", { buckets: [bucket(minuteAgo(1), { files: Array.from({ length: 5001 }, (_, i) => file(`/${i}`, 1)) })] }, /more than 5000 file entries/],
  ];

  it.each(cases)("rejects %s, naming the field, and stores nothing", async (_name, bad, message) => {
    const s = freshStats();
    // Settled here, not through expect().rejects: vitest would leave the RPC's own
    // promise rejected and unhandled.
    const error = await s.record(bad as StatsBatch).then(() => null, (e: unknown) => e);
    expect(String(error)).toMatch(message);
    const sum = await s.summary({ minutes: 10, top: 10 });
    expect(sum.totals).toMatchObject({ copyBytes: 0, copyResponses: 0 });
    expect(sum.top).toEqual([]);
    expect(sum.breakdowns).toMatchObject({ nodes: [], countries: [], classes: [] });
    expect(sum.totals.downloads).toBe(0);
    // The same object still takes a good batch afterwards.
    await s.record(batch(good()));
    expect((await s.summary({ minutes: 10, top: 10 })).top).toEqual([{ path: "/ok", bytes: 10, responses: 1, copyBytes: 10 }]);
  });
});
