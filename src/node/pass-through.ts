import type { NodeConfig } from "../config/node-config";
import { stripHopByHop } from "../http/hop-by-hop";
import { rewriteLocation } from "../http/location";
import { originFetch, passThroughHeaders } from "../origin/origin";
import { originFailure } from "../http/request-id";

/**
 * Streams the origin's own answer to the client, storing nothing: for objects without
 * validator or length, credentialed requests, statuses we do not store, and ranges of
 * objects not stored yet. The origin's Location is rewritten (src/http/location.ts):
 * the node knows no public URL of its own (it answers on whatever host Cloudflare routes
 * to it, and every URL it builds is a path), so the result is path-absolute (RFC 3986
 * §4.2): never the origin's address, never another host reached by a spelling.
 */
export async function passThrough(config: NodeConfig, o: { req: Request; target: string; cacheStatus: string; requestId: () => string }): Promise<Response> {
  const { req, target, cacheStatus } = o;
  const method = req.method === "HEAD" ? "HEAD" : "GET";
  const answer = await originFetch(config, { method, target, headers: passThroughHeaders(config, req.headers), requestId: o.requestId });
  // Fixed text and the id of the log line with the cause (issue #11 L7), as every origin failure.
  if (!answer.ok) return originFailure(answer.kind, o.requestId(), { "cache-status": cacheStatus });
  const res = answer.response;
  const headers = stripHopByHop(res.headers);
  headers.set("cache-status", cacheStatus);
  const location = headers.get("location");
  if (location) headers.set("location", rewriteLocation(location, config.originUrl, ""));
  return new Response(method === "HEAD" ? null : res.body, { status: res.status, headers });
}
