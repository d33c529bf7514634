// The base serving a file itself (below OFFLOAD_MIN_BYTES) counts like a node: the bytes its
// client pulled, under its BASE_ID, the client's country (request.cf) and Cache-Status
// class, one download per client and version. Each test runs the base under its own
// BASE_ID, so its row of the per-node breakdown holds exactly its own traffic.
import { describe, expect, it } from "vitest";
import { baseWithVars } from "../support";
import { putFile, uniquePath } from "../../support/origin";
import { sharedStats } from "./support";

const summary = () => sharedStats().summary({ minutes: 5, top: 100 });

async function until<T>(check: () => Promise<T | undefined>): Promise<T> {
  for (const end = Date.now() + 10_000; ; await new Promise((r) => setTimeout(r, 50))) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error("not recorded in time");
  }
}

describe("the base's own answers in the breakdowns", () => {
  it("count under BASE_ID and the client's country, by bytes delivered, one download per client and version", async () => {
    const baseId = `base-${crypto.randomUUID().slice(0, 8)}`;
    const vars = { BASE_ID: baseId, STATS_FLUSH_SECONDS: "0" };
    const path = uniquePath("small.bin");
    const file = await putFile(path, 90_000); // under OFFLOAD_MIN_BYTES (100000): served here
    const country = async () => (await summary()).breakdowns.countries.find((r) => r.key === "NZ");
    const nzBefore = (await country()) ?? { bytes: 0, downloads: 0 };
    const cf = { country: "NZ", colo: "AKL", asn: 9500 };

    for (let i = 0; i < 2; i++) {
      const res = await baseWithVars(vars, path, { ip: "198.51.100.90", cf });
      expect(res.status).toBe(200);
      expect(res.headers.get("cache-status")).toMatch(/fwd=bypass/);
      expect((await res.arrayBuffer()).byteLength).toBe(file.size);
    }
    const head = await baseWithVars(vars, path, { ip: "198.51.100.90", method: "HEAD", cf });
    expect(head.status).toBe(200);

    const row = await until(async () => {
      const r = (await summary()).breakdowns.nodes.find((n) => n.key === baseId);
      return r && r.bytes === 2 * file.size ? r : undefined;
    });
    // Two reads by one client: both sets of bytes, one download; the HEAD adds neither.
    expect(row).toEqual({ key: baseId, bytes: 2 * file.size, copyBytes: 0, downloads: 1 });
    const nz = await country();
    expect(nz!.bytes - nzBefore.bytes).toBe(2 * file.size);
    expect(nz!.downloads - nzBefore.downloads).toBe(1);
  });
});
