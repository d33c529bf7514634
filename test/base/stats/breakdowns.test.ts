// Per node, country and Cache-Status class breakdowns, and downloads deduped per (client,
// object version) within the hour, in the real OffloadStats object (issue #15 part 1).
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { addBucketBreakdowns, pruneBreakdowns } from "../../../src/stats/breakdown-store";
import type { OffloadStats } from "../../../src/stats/offload-stats";
import { clientPart, downloadId, importSalt, randomClientPart, versionOf, versionPart } from "../../../src/stats/download-id";
import type { BreakdownCounts, DownloadSeen, MinuteBucket } from "../../../src/stats/types";
import { batch, bucket, freshStats, minuteAgo } from "./support";

const bytesOf = (dimension: BreakdownCounts["dimension"], key: string, bytes: number, copyBytes = 0): BreakdownCounts => ({ dimension, key, bytes, copyBytes });

/** The three rows one answer adds: its writer, its client's country, its class. */
function answerRows(where: { node: string; country: string; class: string }, bytes: number, copyBytes: number): BreakdownCounts[] {
  return [bytesOf("node", where.node, bytes, copyBytes), bytesOf("country", where.country, bytes, copyBytes), bytesOf("class", where.class, bytes, copyBytes)];
}

const seen = (id: string, node = "n1", country = "DE", cls = "hit"): DownloadSeen => ({ id, node, country, class: cls });
const id = (n: number) => n.toString(16).padStart(32, "0");
const at = (minute: number, extra: Partial<MinuteBucket>) => batch(bucket(minute, extra));

describe("OffloadStats breakdowns", () => {
  it("sums bytes per node, country and class over the window, most bytes first, ties by key", async () => {
    const s = freshStats();
    await s.record(at(minuteAgo(2), { breakdowns: [...answerRows({ node: "n1", country: "DE", class: "hit" }, 700, 700), ...answerRows({ node: "n2", country: "US", class: "miss" }, 300, 0)] }));
    await s.record(at(minuteAgo(1), { breakdowns: [...answerRows({ node: "n2", country: "FR", class: "hit" }, 300, 300)] }));
    await s.record(at(minuteAgo(30), { breakdowns: answerRows({ node: "old", country: "XX", class: "stale" }, 9999, 9999) }));
    const { breakdowns } = await s.summary({ minutes: 5, top: 10 });
    expect(breakdowns.nodes).toEqual([
      { key: "n1", bytes: 700, copyBytes: 700, downloads: 0 },
      { key: "n2", bytes: 600, copyBytes: 300, downloads: 0 },
    ]);
    expect(breakdowns.countries).toEqual([
      { key: "DE", bytes: 700, copyBytes: 700, downloads: 0 },
      { key: "FR", bytes: 300, copyBytes: 300, downloads: 0 },
      { key: "US", bytes: 300, copyBytes: 0, downloads: 0 },
    ]);
    expect(breakdowns.classes).toEqual([
      { key: "hit", bytes: 1000, copyBytes: 1000, downloads: 0 },
      { key: "miss", bytes: 300, copyBytes: 0, downloads: 0 },
    ]);
    expect(breakdowns.mirrors).toEqual([]);
  });

  it("counts a download once per id within the hour, where its first answer fell", async () => {
    const s = freshStats();
    // One client's four ranges from two nodes: one download, on the node that answered first.
    await s.record(at(minuteAgo(3), { downloads: [seen(id(1), "n1", "DE", "miss")] }));
    await s.record(at(minuteAgo(2), { downloads: [seen(id(1), "n2", "DE", "hit"), seen(id(2), "n2", "US", "hit")] }));
    await s.record(at(minuteAgo(1), { downloads: [seen(id(1), "n1", "DE", "hit"), seen(id(2), "n2", "US", "hit")] }));
    const sum = await s.summary({ minutes: 10, top: 10 });
    expect(sum.totals.downloads).toBe(2);
    expect(sum.breakdowns.nodes.map((r) => [r.key, r.downloads])).toEqual([["n1", 1], ["n2", 1]]);
    expect(sum.breakdowns.countries.map((r) => [r.key, r.downloads])).toEqual([["DE", 1], ["US", 1]]);
    expect(sum.breakdowns.classes.map((r) => [r.key, r.downloads])).toEqual([["hit", 1], ["miss", 1]]);
    // The metrics' all-time counter takes the same deduped count.
    expect(await s.counters()).toContainEqual({ name: "offload_downloads_total", labels: {}, value: 2 });
  });

  it("counts the same id again once the hour since its first answer has passed", async () => {
    const s = freshStats();
    // Minutes are the writers' clocks; the object expires ids by its own clock on write.
    await s.record(at(minuteAgo(90), { downloads: [seen(id(7))] }));
    await s.record(at(minuteAgo(1), { downloads: [seen(id(7))] }));
    await s.record(at(minuteAgo(0), { downloads: [seen(id(7))] }));
    expect((await s.summary({ minutes: 120, top: 10 })).totals.downloads).toBe(2);
    expect((await s.summary({ minutes: 5, top: 10 })).totals.downloads).toBe(1);
  });
});

describe("download ids kept", () => {
  it("are bounded: past the bound the first ones in go first, so a repeat of one of those counts again", async () => {
    const s = freshStats();
    const minute = minuteAgo(1);
    const left = await runInDurableObject(s, (_o: OffloadStats, state) => {
      const sql = state.storage.sql;
      const started = addBucketBreakdowns(sql, bucket(minute, { downloads: Array.from({ length: 10 }, (_, i) => seen(id(100 + i))) }));
      pruneBreakdowns(sql, { now: Date.now(), cutoff: 0, maxIds: 4 });
      const kept = sql.exec<{ id: string }>("SELECT id FROM download_ids ORDER BY rowid").toArray().map((r) => r.id);
      // The oldest one, forgotten, starts a download again; a kept one does not.
      const again = addBucketBreakdowns(sql, bucket(minute, { downloads: [seen(id(100)), seen(id(109))] }));
      return { started, kept, again };
    });
    expect(left).toEqual({ started: 10, kept: [106, 107, 108, 109].map(id), again: 1 });
  });
});

describe("download ids", () => {
  it("are keyed hashes of client and version: equal for one pair, apart for another client, version or salt", async () => {
    const key = await importSalt(crypto.getRandomValues(new Uint8Array(32)).buffer);
    const other = await importSalt(crypto.getRandomValues(new Uint8Array(32)).buffer);
    const v1 = versionOf("/a.iso", new Headers({ etag: '"v1"', "content-length": "10" }));
    // A range of the same version is the same version.
    expect(versionOf("/a.iso", new Headers({ etag: '"v1"', "content-range": "bytes 0-4/10" }))).toBe(v1);
    const v2 = versionOf("/a.iso", new Headers({ etag: '"v2"' }));
    const id = async (k: CryptoKey, client: string, version: string) => downloadId(await clientPart(k, client), version);
    const a = await id(key, "198.51.100.7", v1);
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    // The address does not show as its four bytes in hex (c6.33.64.07); a check for the
    // digits "198" failed by chance, as a random 32-digit hex id holds them ~0.7 % of the time.
    expect(a).not.toContain("c6336407");
    expect(await id(key, "198.51.100.7", v1)).toBe(a);
    for (const b of [await id(key, "198.51.100.8", v1), await id(key, "198.51.100.7", v2), await id(other, "198.51.100.7", v1)]) expect(b).not.toBe(a);
    // The client half is the keyed part: the same for every file of one client and salt.
    expect((await id(key, "198.51.100.7", v2)).slice(0, 16)).toBe(a.slice(0, 16));
    expect(downloadId(randomClientPart(), v1)).toMatch(/^[0-9a-f]{32}$/);
    // 64-bit FNV-1a (the published test vectors: "" and "a").
    expect(versionPart("")).toBe("cbf29ce484222325");
    expect(versionPart("a")).toBe("af63dc4c8601ec8c");
    expect(versionPart("foobar")).toBe("85944171f73967e8");
    // The same as the textbook 64-bit arithmetic on any code units (non-ASCII, lone surrogates).
    const fnv = (s: string) => {
      let h = 0xcbf29ce484222325n;
      for (let i = 0; i < s.length; i++) h = ((h ^ BigInt(s.charCodeAt(i))) * 0x100000001b3n) & 0xffffffffffffffffn;
      return h.toString(16).padStart(16, "0");
    };
    for (let n = 0; n < 200; n++) {
      const s = String.fromCharCode(...Array.from({ length: n % 40 }, () => Math.floor(Math.random() * 0x10000)));
      expect(versionPart(s)).toBe(fnv(s));
    }
    expect(versionPart("/releases/ü.iso\n\"v1\"")).toBe(fnv("/releases/ü.iso\n\"v1\""));
    // Without an ETag: Last-Modified and the full length (Content-Range's for a 206).
    const lm = "Tue, 14 Nov 2023 22:13:20 GMT";
    expect(versionOf("/b", new Headers({ "last-modified": lm, "content-range": "bytes 0-4/10" }))).toBe(versionOf("/b", new Headers({ "last-modified": lm, "content-length": "10" })));
  });

  it("share one salt per stats object, kept across calls", async () => {
    const s = freshStats();
    const one = new Uint8Array(await s.downloadSalt());
    expect(one.byteLength).toBe(32);
    expect(new Uint8Array(await s.downloadSalt())).toEqual(one);
    expect(new Uint8Array(await freshStats().downloadSalt())).not.toEqual(one);
  });
});
