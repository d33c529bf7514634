// Issue #14 part 4: the network-aware choice through the real base worker. The request
// carries Miniflare `cf` data (asn, coordinates, country, continent) and a CF-Connecting-IP
// of either family; three real mirrors hold the current copy, so all three may be named.
import { env } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import worker from "../../src/base-index";
import { putFile, uniquePath } from "../support/origin";
import { putOnMirror, realMirrorUrl } from "./mirror-support";

const SIZE = 200_000;
const MTIME = 1_700_000_000;
const PARIS = { latitude: "48.85", longitude: "2.35", country: "FR", continent: "EU" };
const FRANKFURT = { latitude: "50.11", longitude: "8.68", country: "DE", continent: "EU" };
// Three mirrors: Paris, Frankfurt (IPv4 only), New York (inside AS 64500). No nodes, so
// Location and Link show the mirrors' order alone.
const MIRRORS = JSON.stringify([
  { id: "par", url: realMirrorUrl(0), location: { lat: 48.85, lon: 2.35, country: "FR", continent: "EU" } },
  { id: "fra", url: realMirrorUrl(1), location: { lat: 50.11, lon: 8.68, country: "DE", continent: "EU" }, ipv6: false },
  { id: "nyc", url: realMirrorUrl(2), location: { lat: 40.71, lon: -74.0, country: "US", continent: "NA" }, asns: [64500] },
]);
const ID_OF = new Map([0, 1, 2].map((i) => [realMirrorUrl(i), ["par", "fra", "nyc"][i]!]));

// One env object per variant (as a deployment): the mirrors' verdicts live in its view.
const variants = new Map<string, Env>();
function variant(vars: Record<string, string>): Env {
  const id = JSON.stringify(vars);
  let v = variants.get(id);
  if (!v) variants.set(id, (v = { ...(env as object), ...vars } as unknown as Env));
  return v;
}

/** A request as Cloudflare would hand it to the base: client address and request.cf. */
async function fetchAs(vars: Record<string, string>, path: string, client: { ip: string; ipv6?: string; cf?: Record<string, unknown> }): Promise<Response> {
  const ctx = createExecutionContext();
  const headers: Record<string, string> = { "cf-connecting-ip": client.ip, ...(client.ipv6 ? { "cf-connecting-ipv6": client.ipv6 } : {}) };
  const init = { headers, redirect: "manual", ...(client.cf ? { cf: client.cf } : {}) } as RequestInit;
  const res = await worker.fetch(new Request(`http://base.test${path}`, init) as Request<unknown, IncomingRequestCfProperties>, variant(vars), ctx);
  const body = await res.text();
  await waitOnExecutionContext(ctx);
  return new Response(body, { status: res.status, headers: res.headers });
}

/** The mirrors a response names, by id, in the order given: [Location, Link rel=duplicate..., X-Mirrored-By...]. */
function order(res: Response): { location: string | undefined; link: string[]; mirroredBy: string[] } {
  const idOf = (url: string) => ID_OF.get(new URL(url).origin) ?? url;
  const location = res.headers.get("location");
  return {
    location: location ? idOf(location) : undefined,
    link: [...(res.headers.get("link") ?? "").matchAll(/<([^>]+)>; rel=duplicate/g)].map((m) => idOf(m[1]!)),
    mirroredBy: (res.headers.get("x-mirrored-by") ?? "").split(",").map((s) => s.trim()).filter(Boolean).map(idOf),
  };
}

const network = { OFFLOAD_NODES: "", MIRRORS, BALANCER: "network" };
const hashed = { OFFLOAD_NODES: "", MIRRORS, BALANCER: "hash" };
const V4 = "198.51.100.7";
const V6 = "2001:db8:40::7";
let path = "";

beforeAll(async () => {
  path = uniquePath("network.iso");
  await putFile(path, SIZE, { mtime: MTIME });
  for (const i of [0, 1, 2]) await putOnMirror(i, path, SIZE, { mtime: MTIME });
  // The first request of each variant verifies the copies (one HEAD each, in the
  // background); an IPv4 client without cf data sees every mirror, so all get verified.
  for (const vars of [network, hashed]) {
    await fetchAs(vars, path, { ip: V4 });
    const ready = await fetchAs(vars, path, { ip: V4 });
    expect(ready.status).toBe(307);
    expect(order(ready).link.sort()).toEqual(["fra", "nyc", "par"]);
  }
});

describe("network strategy through the base (request.cf)", () => {
  it("a client inside a mirror's AS goes there first, however far; then the nearest", async () => {
    const res = await fetchAs(network, path, { ip: V4, cf: { ...PARIS, asn: 64500 } });
    expect(res.status).toBe(307);
    expect(order(res)).toEqual({ location: "nyc", link: ["nyc", "par", "fra"], mirroredBy: ["nyc", "par", "fra"] });
  });

  it("a client of another AS gets the nearest first: Paris for Paris, Frankfurt for Frankfurt", async () => {
    expect(order(await fetchAs(network, path, { ip: V4, cf: { ...PARIS, asn: 3320 } })).link).toEqual(["par", "fra", "nyc"]);
    expect(order(await fetchAs(network, path, { ip: V4, cf: { ...FRANKFURT, asn: 3320 } })).link).toEqual(["fra", "par", "nyc"]);
    // No coordinates: same country first (request.cf country only).
    expect(order(await fetchAs(network, path, { ip: V4, cf: { country: "DE", continent: "EU" } })).location).toBe("fra");
  });

  it("odd request.cf values count as unknown, never as a crash or a match", async () => {
    for (const asn of ["64500", -64500, 64500.5, null]) {
      const res = await fetchAs(network, path, { ip: V4, cf: { ...PARIS, asn } });
      expect(res.status).toBe(307);
      expect(order(res).location).toBe("par");
    }
    const lost = await fetchAs(network, path, { ip: V4, cf: { latitude: "north", longitude: "2.35", country: "DE", asn: 64500 } });
    expect(order(lost).link).toEqual(["nyc", "fra", "par"]);
  });

  it("an IPv6 client is never sent to or told of the IPv4-only mirror, even next door", async () => {
    const res = await fetchAs(network, path, { ip: V6, cf: { ...FRANKFURT, asn: 3320 } });
    expect(res.status).toBe(307);
    expect(order(res)).toEqual({ location: "par", link: ["par", "nyc"], mirroredBy: ["par", "nyc"] });
    const meta4 = await fetchAs(network, `${path}.meta4`, { ip: V6, cf: FRANKFURT });
    expect(meta4.status).toBe(200);
    const xml = await meta4.text();
    expect(xml).toContain(realMirrorUrl(0));
    expect(xml).not.toContain(realMirrorUrl(1));
    // Cloudflare's Pseudo IPv4 (Overwrite Headers): a Class E address stands for an IPv6 client.
    expect(order(await fetchAs(network, path, { ip: "240.16.0.1", cf: FRANKFURT })).link).toEqual(["par", "nyc"]);
    expect(order(await fetchAs(network, path, { ip: "240.16.0.1", ipv6: V6, cf: FRANKFURT })).link).toEqual(["par", "nyc"]);
    // An IPv4-mapped address is an IPv4 client: Frankfurt again.
    expect(order(await fetchAs(network, path, { ip: "::ffff:198.51.100.7", cf: FRANKFURT })).location).toBe("fra");
  });

  it("the address family rule holds for every strategy: hash never names the IPv4-only mirror to IPv6 clients", async () => {
    // IPv4 clients get the file's hash order with the IPv4-only mirror in it...
    const four = order(await fetchAs(hashed, path, { ip: V4 })).link;
    expect(four).toHaveLength(3);
    // ...IPv6 clients the same order without it (the rule excludes, it does not reorder).
    for (const ip of [V6, "2001:db8:ffff::1", "2606:4700::1111"]) {
      const o = order(await fetchAs(hashed, path, { ip }));
      expect(o.link).toEqual(four.filter((id) => id !== "fra"));
      expect([o.location, ...o.mirroredBy]).not.toContain("fra");
    }
  });
});
