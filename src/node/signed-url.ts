import type { SigningKey } from "../signing/redirect-token";
import { TOKEN_PARAM, verifyToken } from "../signing/redirect-token";
import { mayHoldToken, partitionTokenQuery } from "../signing/token-query";
import { clientOf } from "../limits/client-key";
import type { Soon } from "../platform/soon";

/** `query`: the canonical, token-free query when the policy keys on it; "" otherwise (unused). */
export type SignedCheck = { ok: true; query: string } | { ok: false; status: 400 | 403; reason: string };

/** What the node asks of a token (NodeConfig's settings, passed on). */
export interface SignedPolicy {
  required: boolean;
  keys: readonly SigningKey[];
  /** The query is part of the cache key: only a token that signs it will do. */
  queryKeyed: boolean;
  /** Longest token lifetime accepted, in seconds (TOKEN_MAX_TTL_SECONDS). */
  maxTtlSeconds: number;
  /** Refuse tokens not bound to a client (REQUIRE_TOKEN_CLIENT). */
  requireClient: boolean;
}

/**
 * Base and node clocks are both Cloudflare's, but not the same clock: a token the base
 * signed for exactly the longest lifetime must not fail at a node a few seconds ahead.
 */
const CLOCK_SKEW_SECONDS = 30;

/**
 * With REQUIRE_SIGNED_URLS, a node answers only requests the base sent it (a valid,
 * unexpired token for this exact path, and query when it is keyed, and this client when
 * the token names one), so nobody can use the nodes as a free mirror that bypasses the
 * base's rules. The token is removed from the query either way: it is never part of a
 * cache key or sent upstream. The query returned (when keyed) is canonical (http/query.ts),
 * the form the base signed. Two tokens are refused even when none is required: which one counts
 * would be a guess, and a link the base never made.
 * Every request comes here: when nothing keys on the query or asks for a token, and the
 * query cannot hold one in any spelling, it is not canonicalised at all.
 */
export function checkSignedUrl(policy: SignedPolicy, path: string, rawQuery: string, headers: Headers): Soon<SignedCheck> {
  if (!policy.required && !policy.queryKeyed && !mayHoldToken(rawQuery)) return { ok: true, query: "" };
  const { query: canonical, tokens } = partitionTokenQuery(rawQuery);
  const query = policy.queryKeyed ? canonical : "";
  if (tokens.length > 1) return { ok: false, status: 400, reason: `bad request: ${tokens.length} ${TOKEN_PARAM} parameters, at most one is allowed` };
  if (!policy.required) return { ok: true, query };
  const verified = verifyToken(policy.keys, tokens[0] ?? null, {
    path,
    // A "q" token signs the query even at a node that does not key on it.
    query: canonical,
    queryKeyed: policy.queryKeyed,
    now: Math.floor(Date.now() / 1000),
    maxLifetime: policy.maxTtlSeconds + CLOCK_SKEW_SECONDS,
    requireClient: policy.requireClient,
    client: clientOf(headers).key,
  });
  return verified.then((check) => (check.ok ? { ok: true, query } : { ok: false, status: 403, reason: `forbidden: this node serves only links from the base (${check.reason}: ${check.detail})` }));
}
