import { describe, expect, it } from "vitest";
import { putFile, stats, uniquePath } from "../support/origin";
import { nodeFetch, sha256Hex, streamSha256 } from "../support/node";

describe("offload node: miss, store, hit", () => {
  // REVALIDATE_SECONDS=0: every answer asks the origin with a HEAD. A copy this colo holds a
  // pointer to is asked about conditionally (304); when R2 must be read, the HEAD goes out
  // with that read, before the copy is known, so it is unconditional and its validators
  // are compared with the copy's (200, same validators: still our copy).
  it("streams a cold object from the origin, stores it, then serves the copy after the origin's HEAD confirms it", async () => {
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
    expect(second.headers.get("cache-status")).toMatch(/^test-node; fwd=stale; fwd-status=200; detail=r2$/);
    expect(second.headers.get("repr-digest")).toBeTruthy();
    expect(await sha256Hex(await second.arrayBuffer())).toBe(file.sha256);

    const third = await nodeFetch(path);
    expect(third.headers.get("cache-status")).toMatch(/^test-node; fwd=stale; fwd-status=304; detail=cache-api$/);
    expect(await sha256Hex(await third.arrayBuffer())).toBe(file.sha256);

    const s = await stats(path);
    expect(s.gets).toBe(1);
    expect(s.heads).toBe(3);
    expect(s.bodyBytes).toBe(file.size);
  });
});
