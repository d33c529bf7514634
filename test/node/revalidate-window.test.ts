import { describe, expect, it } from "vitest";
import { putFile, stats, uniquePath } from "../support/origin";
import { streamSha256 } from "../support/node";
import { fetchWithVars } from "../support/app";

describe("REVALIDATE_SECONDS", () => {
  it("skips the origin HEAD while the copy is younger than the window", async () => {
    const vars = { REVALIDATE_SECONDS: "60", NODE_ID: "young-node" };
    const path = uniquePath("young.bin");
    const file = await putFile(path, 40_000);
    await streamSha256(await fetchWithVars(vars, path));
    const headsAfterFill = (await stats(path)).heads;

    for (let i = 0; i < 3; i++) {
      const res = await fetchWithVars(vars, path);
      expect(res.headers.get("cache-status")).toMatch(/^young-node; hit; ttl=\d+; detail=(r2|cache-api)$/);
      expect((await streamSha256(res)).sha256).toBe(file.sha256);
    }
    expect((await stats(path)).heads).toBe(headsAfterFill);
  });

  it("with the default 0, every request revalidates (mod_offload)", async () => {
    const path = uniquePath("every.bin");
    await putFile(path, 1000);
    for (let i = 0; i < 3; i++) await (await fetchWithVars({}, path)).arrayBuffer();
    expect((await stats(path)).heads).toBe(3);
  });
});
