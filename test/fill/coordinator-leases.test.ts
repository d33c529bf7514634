// Leases as a filler sees them: reports and heartbeats say whether the lease is still the
// caller's, and joins ask for bytes, mapped to the fill's own chunks.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { FillCoordinator } from "../../src/fill/coordinator";
import { atTime } from "./clock";
import { active, LEASE_MS, Version } from "./fixture";

describe("a filler learns when its lease is gone", () => {
  it("a report or heartbeat from a lease that expired and went to another filler is told so; its chunk is still kept", async () => {
    const v = Version.fresh("v1", 8 * 1024, 1024);
    const t0 = Date.now();
    const a = active(await atTime(t0, () => v.join()));
    expect(a.lease).toMatchObject({ next: 0, end: 8 });
    // A went quiet for a whole lease: the next joiner gets the same chunks.
    const b = active(await atTime(t0 + LEASE_MS + 1, () => v.join()));
    expect(b.lease).toMatchObject({ next: 0, end: 8 });
    await atTime(t0 + LEASE_MS + 2, async () => {
      expect(await v.report(a.fill, a.lease!.id, 8, 0)).toEqual({ ok: true, held: false });
      expect(await v.stub.renew({ fill: a.fill, lease: a.lease!.id, next: 1, end: 8 })).toBe(false);
      expect(await v.report(b.fill, b.lease!.id, 8, 1)).toEqual({ ok: true, held: true });
      expect(await v.stub.renew({ fill: b.fill, lease: b.lease!.id, next: 2, end: 8 })).toBe(true);
    });
    // A's late chunk counts; B holds the rest, so a third joiner follows.
    const c = active(await v.join());
    expect(c.lease).toBeNull();
    expect([...c.stored.slice(0, 3)]).toEqual([1, 1, 0]);
    await Promise.all([a, b, c].map((j) => j.progress.cancel()));
  });

  it("a heartbeat reaching a coordinator that restarted takes its lease back, so nobody fetches those chunks twice", async () => {
    const v = Version.fresh("v1", 4 * 1024, 1024);
    await runInDurableObject(v.stub, async (before: FillCoordinator, state) => {
      const a = active(await before.join(v.request()));
      await a.progress.cancel();
      // Same storage, empty memory: what an eviction or deploy leaves.
      const after = new FillCoordinator(state, env as unknown as Env);
      expect(await after.renew({ fill: a.fill, lease: a.lease!.id, next: 0, end: 4 })).toBe(true);
      const late = active(await after.join(v.request()));
      await late.progress.cancel();
      expect(late.lease).toBeNull();
    });
  });
});

describe("joins ask for bytes, not chunk indexes", () => {
  it("a node with another CHUNK_SIZE gets the chunks of the fill's own size that hold its bytes", async () => {
    const v = Version.fresh("v1", 8 * 1024, 1024);
    const first = active(await v.join({ start: 0, end: 1023 }));
    expect(first.lease).toMatchObject({ next: 0, end: 1 });
    // Bytes 5000-6000 are chunks 4 and 5 of this fill (chunk 1 in the joiner's 4 KiB chunks).
    const other = active(await v.join({ start: 5000, end: 6000 }, 4096));
    expect(other.chunkSize).toBe(1024);
    expect(other.lease).toMatchObject({ next: 4, end: 6 });
    // A window reaching past the end stops at the last chunk.
    const tail = active(await v.join({ start: 7168, end: 99_999 }, 4096));
    expect(tail.lease).toMatchObject({ next: 7, end: 8 });
    await Promise.all([first, other, tail].map((j) => j.progress.cancel()));
  });
});
