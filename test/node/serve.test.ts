import { describe, expect, it } from "vitest";
import { putFile, stats, uniquePath } from "../support/origin";
import { nodeFetch, sha256Hex, streamSha256 } from "../support/node";

describe("offload node: miss, store, hit", () => {
  it("streams a cold object from the origin, stores it, then serves the copy after a 304 HEAD", async () => {
    const path = uniquePath("a.bin");
    const file = await putFile(path, 3 * 1024 * 1024 + 17);

    const first = await nodeFetch(path);
    expect(first.status).toBe(200);
    expect(first.headers.get("content-length")).toBe(String(file.size));
    expect(first.headers.get("etag")).toBe(file.etag);
    expect(first.headers.get("cache-status")).toMatch(/^test-node; fwd=miss; fwd-status=200; stored/);
    expect((await streamSha256(first)).sha256).toBe(file.sha256);

    const second = await nodeFetch(path);
    expect(second.status).toBe(200);
    expect(second.headers.get("cache-status")).toMatch(/fwd=stale; fwd-status=304/);
    expect(second.headers.get("repr-digest")).toBeTruthy();
    expect(await sha256Hex(await second.arrayBuffer())).toBe(file.sha256);

    const s = await stats(path);
    expect(s.gets).toBe(1);
    expect(s.heads).toBe(2);
    expect(s.bodyBytes).toBe(file.size);
  });
});
