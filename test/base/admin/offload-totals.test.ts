import { describe, expect, it } from "vitest";
import type { StatsSummary } from "../../../src/stats/types";
import { putFile, uniquePath } from "../../support/origin";
import { baseFetch } from "../support";

const bearer = { authorization: "Bearer admin-test-token-0123456789" };

async function totals(): Promise<StatsSummary> {
  const res = await baseFetch("/_admin/api/stats?minutes=5&top=100", { headers: bearer });
  expect(res.status).toBe(200);
  return res.json();
}

describe("admin: offload totals", () => {
  it("counts a file the base serves itself as bytes from the origin, and shows it among the top files and on the page", async () => {
    const path = uniquePath("small.bin");
    await putFile(path, 5000); // below OFFLOAD_MIN_BYTES: the base serves it
    const before = await totals();
    const res = await baseFetch(path);
    expect(res.status).toBe(200);
    expect((await res.arrayBuffer()).byteLength).toBe(5000);
    let after = before;
    for (let i = 0; i < 50 && after.totals.originBytes === before.totals.originBytes; i++) {
      await new Promise((r) => setTimeout(r, 50)); // the flush runs in waitUntil
      after = await totals();
    }
    expect(after.totals.originBytes - before.totals.originBytes).toBe(5000);
    expect(after.totals.originResponses - before.totals.originResponses).toBe(1);
    expect(after.top.find((f) => f.path === path)).toEqual({ path, bytes: 5000, responses: 1, copyBytes: 0 });
    const page = await (await baseFetch("/_admin", { headers: bearer })).text();
    expect(page).toContain(`<td>${path}</td>`);
    expect(page).toMatch(/<svg[^>]*id="offload-chart"/);
  });

  it("redirects are not counted as served bytes", async () => {
    const path = uniquePath("big.bin");
    await putFile(path, 200_000);
    const before = await totals();
    const res = await baseFetch(path);
    expect(res.status).toBe(307);
    await res.arrayBuffer();
    await new Promise((r) => setTimeout(r, 200));
    const after = await totals();
    expect(after.top.find((f) => f.path === path)).toBeUndefined();
    expect(after.totals.originBytes).toBe(before.totals.originBytes);
  });
});
