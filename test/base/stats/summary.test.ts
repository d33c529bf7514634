import { describe, expect, it } from "vitest";
import { batch, bucket, file, freshStats, minuteAgo, MINUTE } from "./support";

describe("OffloadStats: record + summary", () => {
  it("adds batches per minute and derives totals and ratios", async () => {
    const s = freshStats();
    const m1 = minuteAgo(5);
    const m2 = minuteAgo(2);
    await s.record(batch(bucket(m1, { copyBytes: 300, originBytes: 100, copyResponses: 3, originResponses: 1, refusals: 2 })));
    // A second writer's counts for the same minute add up; another minute is its own point.
    await s.record(batch(bucket(m1, { copyBytes: 100, copyResponses: 1 }), bucket(m2, { originBytes: 500, originResponses: 1 })));

    const sum = await s.summary({ minutes: 10, top: 10 });
    expect(sum.windowMinutes).toBe(10);
    expect(sum.totals).toEqual({
      copyBytes: 400,
      originBytes: 600,
      copyResponses: 4,
      originResponses: 2,
      refusals: 2,
      hitRatio: 4 / 6,
      byteHitRatio: 0.4,
      downloads: 0,
    });
    const at = (m: number) => sum.series.find((p) => p.minute === m);
    expect(at(m1)).toEqual({ minute: m1, copyBytes: 400, originBytes: 100, ratio: 0.8 });
    expect(at(m2)).toEqual({ minute: m2, copyBytes: 0, originBytes: 500, ratio: 0 });
  });

  it("zero-fills the series: one point per minute, oldest first, ending with the current minute", async () => {
    const s = freshStats();
    const before = minuteAgo(0);
    const sum = await s.summary({ minutes: 30, top: 5 });
    const after = minuteAgo(0);
    expect(sum.series).toHaveLength(30);
    sum.series.forEach((p, i) => {
      if (i > 0) expect(p.minute - sum.series[i - 1]!.minute).toBe(MINUTE);
      expect(p).toEqual({ minute: p.minute, copyBytes: 0, originBytes: 0, ratio: null });
    });
    expect([before, after]).toContain(sum.series.at(-1)!.minute);
    expect(sum.totals).toMatchObject({ copyBytes: 0, originBytes: 0, hitRatio: null, byteHitRatio: null });
    expect(sum.top).toEqual([]);
  });

  it("ranks top files by bytes (then answers, then path), summed over buckets and hours", async () => {
    const s = freshStats();
    await s.record(batch(
      bucket(minuteAgo(90), { files: [file("/big.iso", 1000, 1, 1000), file("/b.bin", 50, 2)] }),
      bucket(minuteAgo(3), { files: [file("/big.iso", 500, 1, 0), file("/a.bin", 50, 2, 50), file("/c.bin", 50, 1), file("/tiny", 1, 1)] }),
    ));
    await s.record(batch(bucket(minuteAgo(1), { files: [file("/c.bin", 10, 1, 10)] })));

    const sum = await s.summary({ minutes: 180, top: 4 });
    expect(sum.top).toEqual([
      { path: "/big.iso", bytes: 1500, responses: 2, copyBytes: 1000 },
      { path: "/c.bin", bytes: 60, responses: 2, copyBytes: 10 },
      { path: "/a.bin", bytes: 50, responses: 2, copyBytes: 50 },
      { path: "/b.bin", bytes: 50, responses: 2, copyBytes: 0 },
    ]);
  });

  it("counts only minutes inside the window", async () => {
    const s = freshStats();
    await s.record(batch(
      bucket(minuteAgo(20), { originBytes: 1000, originResponses: 1 }),
      bucket(minuteAgo(2), { copyBytes: 10, copyResponses: 1 }),
    ));
    const five = await s.summary({ minutes: 5, top: 10 });
    expect(five.totals).toMatchObject({ copyBytes: 10, originBytes: 0, hitRatio: 1 });
    const hour = await s.summary({ minutes: 60, top: 10 });
    expect(hour.totals).toMatchObject({ copyBytes: 10, originBytes: 1000, hitRatio: 0.5 });
  });

  it("clamps the window to 1..2880 minutes and the top list to 1..100 files", async () => {
    const s = freshStats();
    const files = Array.from({ length: 120 }, (_, i) => file(`/f/${String(i).padStart(3, "0")}`, 1000 + i));
    // The current minute: a one-minute window covers only its hour, and a minute ago may
    // be the previous hour (this test once ran at 08:00).
    await s.record(batch(bucket(minuteAgo(0), { files })));

    const small = await s.summary({ minutes: 0, top: 0 });
    expect(small.windowMinutes).toBe(1);
    expect(small.series).toHaveLength(1);
    expect(small.top).toHaveLength(1);

    const large = await s.summary({ minutes: 1e9, top: 1e9 });
    expect(large.windowMinutes).toBe(2880);
    expect(large.series).toHaveLength(2880);
    expect(large.top).toHaveLength(100);
    expect(large.top[0]).toEqual({ path: "/f/119", bytes: 1119, responses: 1, copyBytes: 0 });

    // Not numbers (a hand-edited admin URL): the defaults, 60 minutes and 10 files.
    const junk = await s.summary({ minutes: Number.NaN, top: "x" as unknown as number });
    expect(junk.windowMinutes).toBe(60);
    expect(junk.top).toHaveLength(10);
  });

  it("breaks down mirrors by what the base asked of them: redirects and file sizes, most bytes first", async () => {
    const s = freshStats();
    await s.record(batch(bucket(minuteAgo(3), { mirrors: [{ mirror: "m-small", redirects: 4, bytes: 40 }, { mirror: "m-big", redirects: 1, bytes: 900 }] })));
    await s.record(batch(bucket(minuteAgo(1), { mirrors: [{ mirror: "m-small", redirects: 1, bytes: 10 }] })));
    // Outside a 2-minute window: only the last minute's redirect counts there.
    expect((await s.summary({ minutes: 2, top: 10 })).breakdowns.mirrors).toEqual([{ key: "m-small", bytes: 10, copyBytes: 0, downloads: 1 }]);
    expect((await s.summary({ minutes: 10, top: 10 })).breakdowns.mirrors).toEqual([
      { key: "m-big", bytes: 900, copyBytes: 0, downloads: 1 },
      { key: "m-small", bytes: 50, copyBytes: 0, downloads: 5 },
    ]);
  });
});
