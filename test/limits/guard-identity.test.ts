// The accelerator guard against the ways around it found in issue #11: many small ranges
// of one big file (M2), and client identity (L9). Real node, real limiter, real origin.
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { putFile, uniquePath } from "../support/origin";
import { eventually, nodeFetch, streamSha256 } from "../support/node";
import { fetchWithVars } from "../support/app";

const MiB = 1024 * 1024;
const KiB = 1024;

/** A stored object much larger than GUARD_MIN_BYTES (1 MiB in the test config). */
async function storedObject(name: string, size = 16 * MiB) {
  const path = uniquePath(name);
  await putFile(path, size);
  await streamSha256(await nodeFetch(path, { ip: "192.0.2.251" }));
  return path;
}

/** The i-th 512 KiB piece, as `curl -r` would ask for it. */
const piece = (i: number) => ({ range: `bytes=${i * 512 * KiB}-${i * 512 * KiB + 512 * KiB - 1}` });

/** A slow reader: the first chunk read, the rest left in flight (the download stays open). */
async function heldOpen(res: Response) {
  const reader = res.body!.getReader();
  await reader.read();
  return { status: res.status, close: () => reader.cancel() };
}

/** A request exactly as given: no CF-Connecting-IP added (nodeFetch always adds one). */
function rawFetch(path: string, headers: Record<string, string> = {}, method = "GET"): Promise<Response> {
  const fetcher = (exports as unknown as { default: Fetcher }).default;
  return fetcher.fetch(new Request(`http://node.test${path}`, { headers, method }));
}

describe("guard: a download is counted by the object's size, not the answer's (issue #11 M2)", () => {
  it("refuses a third parallel small range of a big stored file from one client with 503", async () => {
    const path = await storedObject("ranged.bin");
    const ip = "198.51.100.60";
    const held = [await heldOpen(await nodeFetch(path, { ip, headers: piece(0) })), await heldOpen(await nodeFetch(path, { ip, headers: piece(1) }))];
    expect(held.map((h) => h.status)).toEqual([206, 206]);

    const third = await nodeFetch(path, { ip, headers: piece(2) });
    expect(third.status).toBe(503);
    expect(third.headers.get("retry-after")).toBeTruthy();
    expect(await third.text()).toMatch(/too many simultaneous downloads/);
    // A multipart answer is a download of the same object too.
    const multi = await nodeFetch(path, { ip, headers: { range: "bytes=0-99,1048576-1048675" } });
    expect(multi.status).toBe(503);
    await multi.text();
    // Small answers that carry no body (HEAD, 304) are not downloads.
    expect((await nodeFetch(path, { ip, method: "HEAD", headers: piece(3) })).status).toBe(206);
    await Promise.all(held.map((h) => h.close()));
  });

  it("counts ranges of a big file the node has not stored yet (origin pass-through)", async () => {
    const path = uniquePath("cold-ranged.bin");
    await putFile(path, 16 * MiB);
    const ip = "198.51.100.61";
    const held = [await heldOpen(await nodeFetch(path, { ip, headers: piece(4) })), await heldOpen(await nodeFetch(path, { ip, headers: piece(5) }))];
    expect(held.map((h) => h.status)).toEqual([206, 206]);
    const third = await nodeFetch(path, { ip, headers: piece(6) });
    expect(third.status).toBe(503);
    await third.text();
    await Promise.all(held.map((h) => h.close()));
  });

  it("still lets small files through uncounted, ranges included", async () => {
    const path = await storedObject("small.bin", 64 * KiB);
    const ip = "198.51.100.62";
    const answers = await Promise.all([0, 1, 2, 3].map((i) => nodeFetch(path, { ip, headers: { range: `bytes=${i}-${i + 9}` } })));
    expect(answers.map((r) => r.status)).toEqual([206, 206, 206, 206]);
    await Promise.all(answers.map((r) => r.arrayBuffer()));
  });
});

describe("guard: client identity (issue #11 L9)", () => {
  it("refuses a counted download without a usable CF-Connecting-IP with 400 naming the header", async () => {
    const path = await storedObject("anonymous.bin");
    for (const headers of [{}, { "cf-connecting-ip": "not-an-ip" }, { "cf-connecting-ip": "010.0.0.1" }, { "cf-connecting-ip": "192.0.2.1, 192.0.2.2" }] as Array<Record<string, string>>) {
      const res = await rawFetch(path, { ...headers, ...piece(0) });
      expect(res.status, JSON.stringify(headers)).toBe(400);
      expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
      expect(await res.text()).toMatch(/CF-Connecting-IP/);
    }
    // What the guard does not count is served as before: HEAD, and small files.
    const head = await rawFetch(path, {}, "HEAD");
    expect(head.status).toBe(200);
    const small = await storedObject("anonymous-small.txt", 1000);
    const ok = await rawFetch(small);
    expect(ok.status).toBe(200);
    expect((await ok.arrayBuffer()).byteLength).toBe(1000);
  });

  it("keys IPv4-mapped clients by their IPv4 address, not one shared /64", async () => {
    const path = await storedObject("mapped.bin");
    const a = [await nodeFetch(path, { ip: "::ffff:198.51.100.70" }), await nodeFetch(path, { ip: "::ffff:198.51.100.70" })];
    // Another IPv4 client behind a mapped address has its own slots.
    const b = await nodeFetch(path, { ip: "::ffff:198.51.100.71" });
    // The same client spelled as plain IPv4 (or in hex) is the same client.
    const same = await nodeFetch(path, { ip: "198.51.100.70" });
    const hex = await nodeFetch(path, { ip: "::FFFF:C633:6446" });
    expect([a[0]!.status, a[1]!.status, b.status, same.status, hex.status]).toEqual([200, 200, 200, 503, 503]);
    await Promise.all([...a, b].map((r) => r.body!.cancel()));
    await Promise.all([same.text(), hex.text()]);
  });
});

describe("guard: one limiter per client and object path, whatever else the request says", () => {
  it("counts parallel ranges of one path together when only the query differs (CACHE_KEY_QUERY=true)", async () => {
    const path = uniquePath("queried.bin");
    await putFile(path, 16 * MiB);
    const vars = { CACHE_KEY_QUERY: "true" };
    const ip = "198.51.100.80";
    const held = [
      await heldOpen(await fetchWithVars(vars, `${path}?r=1`, { ip, headers: piece(0) })),
      await heldOpen(await fetchWithVars(vars, `${path}?r=2`, { ip, headers: piece(1) })),
    ];
    expect(held.map((h) => h.status)).toEqual([206, 206]);
    // A new query (a new cache key) is not a new limiter: this is the same file, in parallel.
    for (const q of ["?r=3", "?r=1&x", "?", ""]) {
      const more = await fetchWithVars(vars, `${path}${q}`, { ip, headers: piece(2) });
      expect(more.status, q).toBe(503);
      expect(await more.text()).toMatch(/too many simultaneous downloads/);
    }
    await Promise.all(held.map((h) => h.close()));
  });

  it("counts credentialed pass-through downloads (FORWARD_CREDENTIALS=true) like any other", async () => {
    const path = uniquePath("credentialed.bin");
    await putFile(path, 16 * MiB);
    const vars = { FORWARD_CREDENTIALS: "true" };
    const ip = "198.51.100.81";
    const cookie = { cookie: "x=1" };
    const held = [
      await heldOpen(await fetchWithVars(vars, path, { ip, headers: { ...cookie, ...piece(0) } })),
      await heldOpen(await fetchWithVars(vars, path, { ip, headers: { authorization: "Bearer t", ...piece(1) } })),
    ];
    expect(held.map((h) => h.status)).toEqual([206, 206]);
    const third = await fetchWithVars(vars, path, { ip, headers: { ...cookie, ...piece(2) } });
    expect(third.status).toBe(503);
    expect(third.headers.get("retry-after")).toBeTruthy();
    expect(await third.text()).toMatch(/too many simultaneous downloads/);
    // The same path without credentials shares the client's slots.
    const plainGet = await fetchWithVars(vars, path, { ip, headers: piece(3) });
    expect(plainGet.status).toBe(503);
    await plainGet.text();
    // Still a pass-through: small credentialed answers are served uncounted, and a whole
    // credentialed download is the origin's bytes.
    const small = uniquePath("credentialed-small.txt");
    await putFile(small, 1000);
    const smalls = await Promise.all([0, 1, 2].map(() => fetchWithVars(vars, small, { ip, headers: cookie })));
    expect(smalls.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(smalls.every((r) => r.headers.get("cache-status")?.includes("credentials"))).toBe(true);
    await Promise.all(smalls.map((r) => r.arrayBuffer()));
    await Promise.all(held.map((h) => h.close()));
    const whole = await eventually(async () => {
      const r = await fetchWithVars(vars, path, { ip, headers: cookie });
      return r.status === 200 ? r : (await r.text(), undefined);
    });
    expect((await streamSha256(whole)).bytes).toBe(16 * MiB);
  });
});
