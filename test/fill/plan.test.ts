import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FillPlan } from "../../src/fill/plan";

const LEASE = 1000;

describe("FillPlan: who fetches which chunks", () => {
  it("leases the first run of missing chunks in the window, then nothing while that lease lives", () => {
    const plan = new FillPlan(10, [3]);
    expect(plan.assign(0, 10, 0, LEASE, "a")).toMatchObject({ next: 0, end: 3 });
    // Chunks 0-2 are leased, 3 stored: the next caller gets the run after them.
    expect(plan.assign(0, 10, 1, LEASE, "b")).toMatchObject({ next: 4, end: 10 });
    expect(plan.assign(0, 10, 2, LEASE, "c")).toBeNull();
  });

  it("a slice lease covers only the window asked for", () => {
    const plan = new FillPlan(256);
    expect(plan.assign(255, 256, 0, LEASE, "tail")).toMatchObject({ next: 255, end: 256 });
    // A full GET afterwards stops its run before the leased tail.
    expect(plan.assign(0, 256, 0, LEASE, "full")).toMatchObject({ next: 0, end: 255 });
  });

  it("a lease that goes quiet expires and its missing chunks go to the next caller, from the first missing one", () => {
    const plan = new FillPlan(8);
    plan.assign(0, 8, 0, LEASE, "a");
    plan.chunkStored("a", 0, 100, LEASE);
    plan.chunkStored("a", 1, 200, LEASE);
    expect(plan.assign(0, 8, 500, LEASE, "b")).toBeNull();
    expect(plan.expire(1199)).toBe(false);
    expect(plan.expire(1200)).toBe(true);
    expect(plan.assign(0, 8, 1300, LEASE, "b")).toMatchObject({ next: 2, end: 8 });
  });

  it("a chunk from an expired lease is kept but does not revive the lease over its successor's chunks", () => {
    const plan = new FillPlan(8);
    plan.assign(0, 8, 0, LEASE, "slow");
    plan.assign(0, 8, 2000, LEASE, "next");
    plan.chunkStored("slow", 0, 2100, LEASE);
    expect(plan.isStored(0)).toBe(true);
    plan.chunkStored("next", 1, 2200, LEASE);
    // Had "slow" been revived, its chunks 1-7 would be claimed twice; now "next" alone holds 2-7.
    plan.release("next");
    expect(plan.assign(0, 8, 2300, LEASE, "third")).toMatchObject({ next: 2, end: 8 });
  });

  it("stored chunks count once, and completion needs every chunk", () => {
    const plan = new FillPlan(3);
    expect(plan.markStored(1)).toBe(true);
    expect(plan.markStored(1)).toBe(false);
    expect(plan.markStored(7)).toBe(false);
    plan.markStored(0);
    expect(plan.complete).toBe(false);
    plan.markStored(2);
    expect(plan.complete).toBe(true);
  });

  it("never leases a stored chunk, nor one inside another live lease (any sequence of calls)", () => {
    type Op = { kind: "assign"; from: number; to: number } | { kind: "store"; lease: number; i: number } | { kind: "tick"; ms: number };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ kind: fc.constant("assign" as const), from: fc.nat(11), to: fc.nat(12) }),
      fc.record({ kind: fc.constant("store" as const), lease: fc.nat(20), i: fc.nat(11) }),
      fc.record({ kind: fc.constant("tick" as const), ms: fc.nat(1500) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const plan = new FillPlan(12);
        const live: { id: string; next: number; end: number; until: number }[] = [];
        let now = 0;
        let n = 0;
        for (const o of ops) {
          if (o.kind === "tick") now += o.ms;
          else if (o.kind === "store") plan.chunkStored(`l${o.lease}`, o.i, now, LEASE);
          else {
            const lease = plan.assign(o.from, o.to, now, LEASE, `l${n++}`);
            if (!lease) continue;
            for (let i = lease.next; i < lease.end; i++) {
              expect(plan.isStored(i)).toBe(false);
              expect(i >= o.from && i < o.to).toBe(true);
              const other = live.find((l) => l.until > now && l.next <= i && i < l.end);
              expect(other, `chunk ${i} already leased to ${other?.id}`).toBeUndefined();
            }
            live.push(lease);
          }
          // After every step: no chunk is claimed by two live leases.
          for (let i = 0; i < 12; i++) expect(live.filter((l) => l.until > now && l.next <= i && i < l.end).length).toBeLessThanOrEqual(1);
        }
      }),
      { numRuns: 300 },
    );
  });
});
