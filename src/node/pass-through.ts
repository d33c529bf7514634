import type { NodeConfig } from "../config/node-config";
import { stripHopByHop } from "../http/hop-by-hop";
import { originFetch, passThroughHeaders } from "./origin";
import { plain } from "../http/plain";

/**
 * Streams the origin's own answer to the client, storing nothing: for objects without
 * validator or length, credentialed requests, statuses we do not store, and ranges of
 * objects not stored yet.
 */
export async function passThrough(config: NodeConfig, req: Request, target: string, cacheStatus: string): Promise<Response> {
  const method = req.method === "HEAD" ? "HEAD" : "GET";
  const answer = await originFetch(config, method, target, passThroughHeaders(config, req.headers));
  if (!answer.ok) {
    return plain(answer.kind === "timeout" ? 504 : 502, answer.reason, { "cache-status": cacheStatus });
  }
  const res = answer.response;
  const headers = stripHopByHop(res.headers);
  headers.set("cache-status", cacheStatus);
  return new Response(method === "HEAD" ? null : res.body, { status: res.status, headers });
}
