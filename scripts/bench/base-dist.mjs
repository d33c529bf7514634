/**
 * Selection distribution: N requests over M distinct paths through a base worker per
 * strategy; the node is read from each 307's Location. Clients differ by CF-Connecting-IP
 * and, for geo, by request.cf sent as JSON in MF-CF-Blob (direct sockets honour it).
 */
import http from "node:http";
import { agentGet } from "./clients.mjs";

/** The three bench nodes: locations for geo (Frankfurt, Ashburn, Singapore). */
export const DIST_NODES = [
  { id: "node-a", url: "http://node-a.bench.invalid", location: { lat: 50.11, lon: 8.68, country: "DE", continent: "EU" } },
  { id: "node-b", url: "http://node-b.bench.invalid", location: { lat: 39.04, lon: -77.49, country: "US", continent: "NA" } },
  { id: "node-c", url: "http://node-c.bench.invalid", location: { lat: 1.35, lon: 103.82, country: "SG", continent: "AS" } },
];
export const NODE_IDS = DIST_NODES.map((n) => n.id);

/** Client cities for geo, used in turn (two nearest to each node). */
export const CITIES = [
  { name: "Berlin", latitude: "52.52", longitude: "13.40", country: "DE", continent: "EU" },
  { name: "Paris", latitude: "48.86", longitude: "2.35", country: "FR", continent: "EU" },
  { name: "New York", latitude: "40.71", longitude: "-74.01", country: "US", continent: "NA" },
  { name: "Chicago", latitude: "41.88", longitude: "-87.63", country: "US", continent: "NA" },
  { name: "Tokyo", latitude: "35.68", longitude: "139.69", country: "JP", continent: "AS" },
  { name: "Sydney", latitude: "-33.87", longitude: "151.21", country: "AU", continent: "OC" },
];

function haversineKm(a, b) {
  const rad = Math.PI / 180;
  const h = Math.sin(((b.lat - a.lat) * rad) / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(((b.lon - a.lon) * rad) / 2) ** 2;
  return 2 * 6371.0088 * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Nearest node to a city (what geo should choose). */
export function nearestNode(city, nodes = DIST_NODES) {
  const here = { lat: Number(city.latitude), lon: Number(city.longitude) };
  return nodes.map((n) => ({ id: n.id, d: haversineKm(here, n.location) })).sort((a, b) => a.d - b.d)[0].id;
}

/** OFFLOAD_NODES as a JSON var; weights optional (default 1). */
export function nodesVar(nodes = DIST_NODES, weights = {}) {
  return JSON.stringify(nodes.map((n) => ({ ...n, ...(weights[n.id] ? { weight: weights[n.id] } : {}) })));
}

const idByHost = new Map(DIST_NODES.map((n) => [new URL(n.url).host, n.id]));

/**
 * Sends `requests` GETs over `paths` (request i -> paths[i % M]) with `concurrency` in
 * flight; returns per node counts, per path the nodes seen, and per request the city.
 * @returns {Promise<{ counts: Record<string, number>, byPath: Map<string, string[]>, other: Record<string, number>, geoHits: number, geoTotal: number }>}
 */
export async function distribute(baseUrl, paths, { requests, concurrency = 8, geo = false }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const counts = Object.fromEntries(NODE_IDS.map((id) => [id, 0]));
  const other = {};
  const byPath = new Map(paths.map((p) => [p, []]));
  let geoHits = 0;
  let next = 0;
  async function lane() {
    for (let i = next++; i < requests; i = next++) {
      const p = paths[i % paths.length];
      const city = CITIES[i % CITIES.length];
      const headers = { "cf-connecting-ip": `198.51.${(i >> 8) & 255}.${i & 255}` };
      if (geo) headers["mf-cf-blob"] = JSON.stringify({ latitude: city.latitude, longitude: city.longitude, country: city.country, continent: city.continent, city: city.name });
      const r = await agentGet(agent, baseUrl + p, headers);
      const loc = r.headers.location;
      const id = r.status === 307 && loc ? idByHost.get(new URL(loc).host) : undefined;
      if (!id) {
        const k = `${r.status} ${r.headers["cache-status"] ?? ""}`;
        other[k] = (other[k] ?? 0) + 1;
        continue;
      }
      counts[id]++;
      byPath.get(p).push(id);
      if (geo && id === nearestNode(city)) geoHits++;
    }
  }
  try {
    await Promise.all(Array.from({ length: concurrency }, lane));
  } finally {
    agent.destroy();
  }
  return { counts, byPath, other, geoHits, geoTotal: requests };
}

/** Fraction of paths (with at least one answer) that always got the same node. */
export function pathStable(byPath) {
  let seen = 0;
  let stable = 0;
  for (const ids of byPath.values()) {
    if (!ids.length) continue;
    seen++;
    if (ids.every((x) => x === ids[0])) stable++;
  }
  return seen ? stable / seen : Number.NaN;
}

/** The node each path went to first (for the removal comparison). */
export function homeOf(byPath) {
  return new Map([...byPath].filter(([, ids]) => ids.length).map(([p, ids]) => [p, ids[0]]));
}
