// The base keeps a path's ranking per health view for strategies that rank by path
// alone (issue #13): a kept ranking must never outlive the view or target list it came from.
import { describe, expect, it } from "vitest";
import { parseBaseConfig } from "../../src/config/base-config";
import type { HealthRecord } from "../../src/health/registry";
import type { Catalog } from "../../src/mirrors/catalog";
import { chooseTargets } from "../../src/base/targets";

const NODES = "https://a.example,https://b.example,https://c.example";
const noMirrors: Catalog = { version: -1, mirrors: [] };
const req = (cf?: Record<string, unknown>) => new Request("https://base.example/x", cf ? ({ cf } as RequestInit) : {});
const up = (): HealthRecord => ({ healthy: true, reason: "", successes: 2, failures: 0, checkedAt: 1, changedAt: 1 });
const down = (): HealthRecord => ({ healthy: false, reason: "down: 2 failed checks", successes: 0, failures: 2, checkedAt: 2, changedAt: 2 });
const ids = (c: { ranked: { id: string }[] }) => c.ranked.map((t) => t.id);

function setup(vars: Record<string, string> = {}) {
  // One env object per deployment: the kept choices live per env.
  const env = {};
  const config = parseBaseConfig({ ORIGIN_URL: "https://origin.example", OFFLOAD_NODES: NODES, ...vars });
  return (path: string, health: Record<string, HealthRecord>, catalog = noMirrors, cf?: Record<string, unknown>) => chooseTargets(env, config, { path, health, req: req(cf), catalog });
}

describe("base: choices kept per path (hash, bounded-hash, least-loaded)", () => {
  it("ranks a path once per health view, and anew once the view changes (a health flip)", () => {
    const choose = setup();
    const view = {};
    const first = choose("/f/1.iso", view);
    expect(choose("/f/1.iso", view)).toBe(first);
    const top = first.ranked[0]!.id;
    // The Cron marked the chosen node down: the next view is a new object.
    const flipped = { [top]: down() };
    const after = choose("/f/1.iso", flipped);
    expect(ids(after)).not.toContain(top);
    expect(after.selection.excluded.map((e) => e.target.id)).toEqual([top]);
    expect(ids(after)).toEqual(ids(first).filter((id) => id !== top));
    // And back up: the original order again.
    expect(ids(choose("/f/1.iso", { [top]: up() }))).toEqual(ids(first));
  });

  it("ranks anew when the target list changes (mirror catalog version)", () => {
    const choose = setup({ MIRRORS: JSON.stringify([{ id: "m", url: "https://m.example" }]) });
    const view = {};
    const spec = parseBaseConfig({ ORIGIN_URL: "https://origin.example", MIRRORS: JSON.stringify([{ id: "m", url: "https://m.example" }]) }).mirrors[0]!;
    const without = choose("/f/2.iso", view, { version: 1, mirrors: [{ spec, enabled: false, source: "seed", edited: false }] });
    expect(ids(without)).not.toContain("m");
    const withMirror = choose("/f/2.iso", view, { version: 2, mirrors: [{ spec, enabled: true, source: "seed", edited: false }] });
    expect(ids(withMirror)).toContain("m");
  });

  it("keeps nothing for strategies that read the client, random draws or the sequence", () => {
    const choose = setup({ BALANCER: "round-robin" });
    const view = {};
    const a = choose("/f/3.iso", view);
    const b = choose("/f/3.iso", view);
    expect(b).not.toBe(a);
    expect(ids(b)).not.toEqual(ids(a));
  });

  it("keeps nothing while some target refuses an address family (the client's family then matters)", () => {
    const choose = setup({ OFFLOAD_NODES: JSON.stringify([{ id: "v4", url: "https://a.example", ipv6: false }, { id: "any", url: "https://b.example" }]) });
    const view = {};
    expect(choose("/f/4.iso", view)).not.toBe(choose("/f/4.iso", view));
  });
});
