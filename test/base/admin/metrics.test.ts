import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { HealthRegistry } from "../../../src/health/registry";
import { COUNTERS } from "../../../src/stats/counters";
import { putFile, uniquePath } from "../../support/origin";
import { parseExposition, sampleValue, type ParsedFamily } from "../../support/exposition-parser";
import { baseFetch } from "../support";

const TOKEN = "admin-test-token-0123456789";
const bearer = { authorization: `Bearer ${TOKEN}` };

async function scrape(): Promise<Map<string, ParsedFamily>> {
  const res = await baseFetch("/_admin/metrics", { headers: bearer });
  expect(res.status).toBe(200);
  return parseExposition(await res.text());
}

/** Scrapes until `done` holds (the writers flush in waitUntil), at most ~5 s. */
async function scrapeUntil(done: (f: Map<string, ParsedFamily>) => boolean): Promise<Map<string, ParsedFamily>> {
  let f = await scrape();
  for (let i = 0; i < 100 && !done(f); i++) {
    await new Promise((r) => setTimeout(r, 50));
    f = await scrape();
  }
  return f;
}

const v = (f: Map<string, ParsedFamily>, name: string, labels: Record<string, string> = {}) => sampleValue(f, name, labels) ?? 0;

describe("GET /_admin/metrics (Prometheus)", () => {
  it("needs ADMIN_TOKEN: 401 with a Bearer challenge and no data, without or with a wrong token", async () => {
    for (const headers of [{} as Record<string, string>, { authorization: "Bearer wrong-token-wrong-token" }, { authorization: "Basic " + btoa("x:nope") }]) {
      const res = await baseFetch("/_admin/metrics", { headers, ip: "198.51.100.91" });
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer /);
      const text = await res.text();
      expect(text).not.toContain("offload_");
      expect(text).toMatch(/authentication required/); // plain text for a scraper, not the sign-in page
    }
  });

  it("answers the text format 0.0.4, uncached, every defined counter with HELP and TYPE, plus the gauges", async () => {
    const res = await baseFetch("/_admin/metrics", { headers: bearer });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(res.headers.get("cache-control")).toBe("no-store");
    const f = parseExposition(await res.text());
    for (const name of Object.keys(COUNTERS)) expect(f.get(name)?.type, name).toBe("counter");
    for (const name of ["offload_downloads_in_flight", "offload_fills_in_progress", "offload_targets", "offload_targets_up", "offload_farm_members_up"]) expect(f.get(name)?.type, name).toBe("gauge");
    // The configured targets and farms (vitest.config.ts), no per-file label anywhere.
    expect(v(f, "offload_targets", { kind: "node" })).toBe(2);
    expect(f.get("offload_downloads_in_flight")!.samples.map((s) => s.labels.node).sort()).toEqual(["n1", "n2"]);
    expect(f.get("offload_farm_members_up")!.samples.map((s) => s.labels.farm).sort()).toEqual(["farm_gold", "farm_one", "farm_stats"]);
    for (const fam of f.values()) for (const s of fam.samples) expect(Object.keys(s.labels)).not.toContain("path");
  });

  it("counts the base's own answer exactly: bytes from the origin, one answer by class and code; counters never go down", async () => {
    const path = uniquePath("metrics-small.bin");
    await putFile(path, 4321); // below OFFLOAD_MIN_BYTES: the base serves it itself (fwd=bypass)
    const before = await scrape();
    const res = await baseFetch(path);
    expect(res.status).toBe(200);
    expect((await res.arrayBuffer()).byteLength).toBe(4321);
    const answered = (f: Map<string, ParsedFamily>) => v(f, "offload_answers_total", { cache_status: "bypass", code: "200" }) - v(before, "offload_answers_total", { cache_status: "bypass", code: "200" });
    const after = await scrapeUntil((f) => answered(f) >= 1);
    expect(answered(after)).toBe(1);
    expect(v(after, "offload_served_bytes_total", { source: "origin" }) - v(before, "offload_served_bytes_total", { source: "origin" })).toBe(4321);
    expect(v(after, "offload_served_bytes_total", { source: "copy" })).toBe(v(before, "offload_served_bytes_total", { source: "copy" }));
    // Monotonic: every counter series of the first scrape is still there, at least as high.
    for (const [name, fam] of before) {
      if (fam.type !== "counter") continue;
      for (const s of fam.samples) expect(sampleValue(after, name, s.labels), `${name} ${JSON.stringify(s.labels)}`).toBeGreaterThanOrEqual(s.value);
    }
  });

  it("counts a health transition of any registry object, once", async () => {
    const health = (env as unknown as { HEALTH: DurableObjectNamespace<HealthRegistry> }).HEALTH;
    const registry = health.get(health.idFromName(`metrics-test-${crypto.randomUUID()}`));
    const down = { registry: "targets", to: "down" };
    const before = await scrape();
    await registry.observe([{ id: "t1", ok: false, detail: "test", source: "active" }], { rise: 1, fall: 1 });
    await registry.observe([{ id: "t1", ok: false, detail: "test", source: "active" }], { rise: 1, fall: 1 }); // already down: no flip
    const after = await scrapeUntil((f) => v(f, "offload_health_transitions_total", down) > v(before, "offload_health_transitions_total", down));
    expect(v(after, "offload_health_transitions_total", down) - v(before, "offload_health_transitions_total", down)).toBe(1);
  });
});
