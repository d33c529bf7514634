import { env } from "cloudflare:workers";
import { runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { putFile, uniquePath } from "../support/origin";
import { eventually, nodeFetch, streamSha256 } from "../support/node";

const MiB = 1024 * 1024;
const limiter = (env as unknown as Env).CONCURRENCY;

/** A stored object large enough that an unread download stays in flight. */
async function storedObject(name: string) {
  const path = uniquePath(name);
  const file = await putFile(path, 16 * MiB);
  await streamSha256(await nodeFetch(path, { ip: "192.0.2.250" }));
  return { path, file };
}

describe("download accelerator guard", () => {
  it("allows MAX_CONNECTIONS_PER_CLIENT downloads of one URL per client and refuses more with 503", async () => {
    const { path, file } = await storedObject("guarded.bin");
    const a = await nodeFetch(path, { ip: "198.51.100.20" });
    const b = await nodeFetch(path, { ip: "198.51.100.20" });
    expect([a.status, b.status]).toEqual([200, 200]);

    const refused = await nodeFetch(path, { ip: "198.51.100.20" });
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(refused.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(await refused.text()).toMatch(/too many simultaneous downloads/);
    expect(refused.headers.get("cache-status")).toContain("concurrency-limit");

    // Another client, another URL, and HEAD requests are not affected.
    expect((await nodeFetch(path, { ip: "198.51.100.21" })).status).toBe(200);
    expect((await nodeFetch(path, { ip: "198.51.100.20", method: "HEAD" })).status).toBe(200);
    const other = await storedObject("other.bin");
    const otherRes = await nodeFetch(other.path, { ip: "198.51.100.20" });
    expect(otherRes.status).toBe(200);
    await otherRes.body!.cancel();

    // Finishing one download frees its slot.
    expect((await streamSha256(a)).sha256).toBe(file.sha256);
    const c = await eventually(async () => {
      const r = await nodeFetch(path, { ip: "198.51.100.20" });
      return r.status === 200 ? r : (await r.text(), undefined);
    });
    await Promise.all([b.body!.cancel(), c.body!.cancel()]);
  });

  it("groups IPv6 clients by /64", async () => {
    const { path } = await storedObject("v6.bin");
    const a = await nodeFetch(path, { ip: "2001:db8:1:2::1" });
    const b = await nodeFetch(path, { ip: "2001:db8:1:2:ffff::9" });
    const c = await nodeFetch(path, { ip: "2001:db8:1:2:abcd::" });
    const d = await nodeFetch(path, { ip: "2001:db8:1:3::1" });
    expect([a.status, b.status, c.status, d.status]).toEqual([200, 200, 503, 200]);
    await Promise.all([a, b, d].map((r) => r.body!.cancel()));
    await c.text();
  });

  it("a client that aborts its download releases the slot", async () => {
    const { path } = await storedObject("abort.bin");
    const controllers = [new AbortController(), new AbortController()];
    const held = await Promise.all(controllers.map((ac) => nodeFetch(path, { ip: "198.51.100.30", signal: ac.signal })));
    expect(held.map((r) => r.status)).toEqual([200, 200]);
    const blocked = await nodeFetch(path, { ip: "198.51.100.30" });
    expect(blocked.status).toBe(503);
    await blocked.text();

    await held[0]!.body!.cancel();
    const next = await eventually(async () => {
      const r = await nodeFetch(path, { ip: "198.51.100.30" });
      return r.status === 200 ? r : (await r.text(), undefined);
    });
    await Promise.all([held[1]!.body!.cancel(), next.body!.cancel()]);
  });

  it("leases expire without heartbeats, so a dead worker never keeps a slot", async () => {
    const stub = limiter.get(limiter.idFromName(`lease-test ${crypto.randomUUID()}`));
    const ttl = 300;
    const first = await stub.acquire(2, ttl);
    const second = await stub.acquire(2, ttl);
    expect(first.ok && second.ok).toBe(true);
    const third = await stub.acquire(2, ttl);
    expect(third).toMatchObject({ ok: false, active: 2 });

    // A heartbeat keeps a lease; without one it lapses and the alarm sweeps it.
    await new Promise((r) => setTimeout(r, 200));
    expect(first.ok && (await stub.renew(first.leaseId, 1000))).toBe(true);
    await new Promise((r) => setTimeout(r, 250));
    await runDurableObjectAlarm(stub);
    expect(await stub.active()).toBe(1);
    expect(second.ok && (await stub.renew(second.leaseId, 1000))).toBe(false);
    const fourth = await stub.acquire(2, ttl);
    expect(fourth.ok).toBe(true);
  });
});
