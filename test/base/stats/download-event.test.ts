// Download events (issue #15 part 3): the data point's shape, and writes through the
// real DOWNLOAD_EVENTS binding (vitest.config.ts binds a local dataset; Miniflare keeps
// no points to read back, so the point is checked by its pure builder).
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { downloadDataPoint, downloadEvents, writeDownloadEvent, type DownloadEvent } from "../../../src/stats/download-event";

const event: DownloadEvent = {
  path: "/iso/a.iso",
  status: 206,
  cacheClass: "hit",
  colo: "FRA",
  country: "DE",
  asn: "3320",
  target: "node-fra",
  source: "copy",
  bytes: 1_048_576,
  declared: 67_108_864,
};

afterEach(() => vi.restoreAllMocks());

describe("download events", () => {
  it("puts path, status, class, colo, country, ASN, target and source in blobs, bytes sent and declared in doubles, the path as index", () => {
    expect(downloadDataPoint(event)).toEqual({
      indexes: ["/iso/a.iso"],
      blobs: ["/iso/a.iso", "206", "hit", "FRA", "DE", "3320", "node-fra", "copy"],
      doubles: [1_048_576, 67_108_864],
    });
  });

  it("cuts an index over 96 bytes on a character boundary, keeping the whole path in blob1", () => {
    const path = `/${"é".repeat(60)}`; // 121 bytes of UTF-8
    const point = downloadDataPoint({ ...event, path });
    const index = point.indexes![0] as string;
    expect(new TextEncoder().encode(index).length).toBeLessThanOrEqual(96);
    expect(path.startsWith(index)).toBe(true);
    expect(index).not.toContain("\uFFFD");
    expect(point.blobs![0]).toBe(path);
  });

  it("writes through the bound dataset without an error, and does nothing without one", () => {
    const errors = vi.spyOn(console, "error");
    expect(downloadEvents(env)).not.toBeNull();
    writeDownloadEvent(env, event);
    writeDownloadEvent(env, { ...event, source: "mirror", target: "m1", status: 302, bytes: 0 });
    const { DOWNLOAD_EVENTS: _dropped, ...unbound } = env as unknown as Record<string, unknown>;
    expect(downloadEvents(unbound)).toBeNull();
    writeDownloadEvent(unbound, event);
    expect(errors).not.toHaveBeenCalled();
  });

  it("makes an event given as a function only when a dataset is bound (a mirror redirect reads request.cf for nothing else)", () => {
    const make = vi.fn(() => ({ ...event, source: "mirror" as const, target: "m1", status: 307, bytes: 0 }));
    const { DOWNLOAD_EVENTS: _dropped, ...unbound } = env as unknown as Record<string, unknown>;
    writeDownloadEvent(unbound, make);
    expect(make).not.toHaveBeenCalled();
    writeDownloadEvent(env, make);
    expect(make).toHaveBeenCalledTimes(1);
  });
});
