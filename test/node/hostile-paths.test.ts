// Dot segments hidden behind ";params" (issue #11 L2) at the offload node.
import { describe, expect, it } from "vitest";
import { totalStats } from "../support/origin";
import { nodeFetch } from "../support/node";

describe("node: hostile paths", () => {
  it("refuses a dot segment with ;params in every spelling with 400 and one plain line, asking the origin nothing", async () => {
    const before = await totalStats();
    for (const path of ["/small/..;/hello.txt", "/a/%2e%2e;/b.iso", "/a/..%3B/b.iso", "/a/.%3b/b.iso", "/.;jsessionid=1/b.iso", "/a/..;x=1/b.iso"]) {
      const res = await nodeFetch(path);
      expect(res.status, path).toBe(400);
      expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
      expect(await res.text()).toBe("bad request path: dot segment in path\n");
    }
    const after = await totalStats();
    expect([after.gets, after.heads]).toEqual([before.gets, before.heads]);
  });
});
