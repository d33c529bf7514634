import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sha256DigestField } from "../../src/http/digest";
import { metaKey } from "../../src/store/layout";
import { behave, putFile, stats, uniquePath } from "../support/origin";
import { eventually, nodeFetch, streamSha256 } from "../support/node";
import { fetchWithVars } from "../support/app";

const store = (env as unknown as Env).STORE;
const MiB = 1024 * 1024;

describe("origin fill: coalescing and integrity", () => {
  it("20 concurrent cold clients cause one origin body (multipart upload path)", async () => {
    const path = uniquePath("popular.iso");
    const file = await putFile(path, 12 * MiB + 123);
    // A steady origin, so every client arrives while the fill is in progress.
    await behave(path, { bytesPerSecond: 24 * MiB });
    const t0 = Date.now();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => nodeFetch(path, { ip: `203.0.113.${i + 1}` }).then(async (r) => ({ status: r.status, ...(await streamSha256(r)) }))),
    );
    for (const r of results) {
      expect(r.status).toBe(200);
      expect(r.bytes).toBe(file.size);
      expect(r.sha256).toBe(file.sha256);
    }
    console.log(`20 clients x ${file.size} bytes in ${Date.now() - t0} ms`);
    const s = await stats(path);
    expect(s.gets).toBe(1);
    expect(s.bodyBytes).toBeLessThanOrEqual(file.size * 1.05);
    const stored = await store.head(metaKey(path));
    expect(JSON.parse(stored!.customMetadata!["meta"]!)).toMatchObject({ length: file.size, sha256: file.sha256 });
  });

  it("coalesces across nodes: clients of two node instances share one fill", async () => {
    const path = uniquePath("two-nodes.bin");
    const file = await putFile(path, 9 * MiB);
    await behave(path, { bytesPerSecond: 24 * MiB });
    const requests = Array.from({ length: 8 }, (_, i) =>
      i % 2 === 0 ? nodeFetch(path, { ip: `198.18.0.${i}` }) : fetchWithVars({ NODE_ID: "node-b" }, path, { ip: `198.18.0.${i}` }),
    );
    const responses = await Promise.all(requests);
    expect(new Set(responses.map((r) => r.headers.get("cache-status")?.split(";")[0]))).toEqual(new Set(["test-node", "node-b"]));
    for (const r of await Promise.all(responses.map(streamSha256))) expect(r.sha256).toBe(file.sha256);
    const s = await stats(path);
    expect(s.gets).toBe(1);
    expect(s.bodyBytes).toBeLessThanOrEqual(file.size * 1.05);
  });

  it("a fill whose origin dies mid-body resumes at the first missing chunk: the client still gets the file, nothing is visible before it is whole", async () => {
    const path = uniquePath("broken.bin");
    const file = await putFile(path, 12 * MiB);
    await behave(path, { dieAfterBytes: 9 * MiB + 4096 });
    const res = await nodeFetch(path);
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    let got = 0;
    // Past the failure point: the pointer must not exist while chunks are missing.
    while (got < 9 * MiB) got += (await reader.read()).value!.byteLength;
    const digest = new crypto.DigestStream("SHA-256");
    const rest = new ReadableStream<Uint8Array>({ pull: async (c) => { const r = await reader.read(); if (r.done) c.close(); else c.enqueue(r.value); } });
    await eventually(async () => (await stats(path)).gets === 2);
    await rest.pipeTo(digest).catch(() => {});
    // The whole body arrived (checked by total below); the copy is then committed.
    await eventually(async () => (await store.head(metaKey(path))) !== null);
    const s = await stats(path);
    expect(s.gets).toBe(2);
    expect(s.rangeGets).toBe(1);
    expect(s.bodyBytes).toBeLessThanOrEqual(file.size + MiB + 4096);
    const again = await nodeFetch(path);
    expect(again.headers.get("cache-status")).toMatch(/fwd=stale/);
    expect((await streamSha256(again)).sha256).toBe(file.sha256);
  });

  it("a client that does not read does not hold up the fill; it resumes from the stored copy", async () => {
    const path = uniquePath("slow-client.bin");
    const file = await putFile(path, 24 * MiB);
    const stalled = await nodeFetch(path);
    expect(stalled.status).toBe(200);
    // Nobody reads this body, yet the object completes in R2.
    await eventually(async () => (await store.head(metaKey(path))) !== null, 20_000);
    expect((await streamSha256(stalled)).sha256).toBe(file.sha256);
    expect((await stats(path)).bodyBytes).toBe(file.size);
  });

  it("a client joining a fill in progress gets every byte from the stored chunks, and the origin sends one body", async () => {
    const path = uniquePath("late-join.bin");
    const file = await putFile(path, 6 * MiB);
    await behave(path, { bytesPerSecond: 4 * MiB });
    const first = await nodeFetch(path, { ip: "192.0.2.1" });
    const firstDone = streamSha256(first);
    await new Promise((r) => setTimeout(r, 500));
    const late = await nodeFetch(path, { ip: "192.0.2.2" });
    expect(late.status).toBe(200);
    const [a, b] = await Promise.all([firstDone, streamSha256(late)]);
    expect(a.sha256).toBe(file.sha256);
    expect(b.sha256).toBe(file.sha256);
    const s = await stats(path);
    // The late client reads the chunks stored so far, then waits at the live edge.
    expect(late.headers.get("cache-status")).toMatch(/collapsed/);
    expect(s.gets).toBe(1);
    expect(s.rangeGets).toBe(0);
    expect(s.bodyBytes).toBe(file.size);
  });
});

describe("origin fill: digest verification (RFC 9530)", () => {
  it("stores a copy whose SHA-256 matches the origin's Repr-Digest", async () => {
    const path = uniquePath("digest-ok.bin");
    const file = await putFile(path, 3 * MiB);
    await behave(path, { reprDigest: sha256DigestField(file.sha256) });
    const res = await nodeFetch(path);
    expect((await streamSha256(res)).sha256).toBe(file.sha256);
    await eventually(async () => (await store.head(metaKey(path))) !== null);
  });

  it("refuses a copy whose bytes do not match the origin's Repr-Digest: the client gets a short body, nothing is stored", async () => {
    const path = uniquePath("digest-bad.bin");
    const file = await putFile(path, 3 * MiB);
    await behave(path, { reprDigest: sha256DigestField("00".repeat(32)) });
    const res = await nodeFetch(path);
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    let received = 0;
    await expect(
      (async () => {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          received += value.byteLength;
        }
      })(),
    ).rejects.toThrow();
    expect(received).toBeLessThan(file.size);
    expect(await store.head(metaKey(path))).toBeNull();
  });
});
