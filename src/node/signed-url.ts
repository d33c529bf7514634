import type { SigningKey } from "../signing/redirect-token";
import { TOKEN_PARAM, verifyToken } from "../signing/redirect-token";
import { clientOf } from "../limits/client-key";

export type SignedCheck = { ok: true; query: string } | { ok: false; reason: string };

/**
 * With REQUIRE_SIGNED_URLS, a node answers only requests the base sent it (a valid,
 * unexpired token for this exact path, and this client when the token names one), so
 * nobody can use the nodes as a free mirror that bypasses the base's rules. The token is
 * removed from the query either way: it is never part of a cache key or sent upstream.
 */
export async function checkSignedUrl(required: boolean, keys: readonly SigningKey[], path: string, rawQuery: string, headers: Headers): Promise<SignedCheck> {
  const kept: string[] = [];
  let token: string | null = null;
  for (const part of rawQuery ? rawQuery.split("&") : []) {
    if (part.startsWith(`${TOKEN_PARAM}=`)) token ??= decodeURIComponent(part.slice(TOKEN_PARAM.length + 1));
    else kept.push(part);
  }
  const query = kept.join("&");
  if (!required) return { ok: true, query };
  const check = await verifyToken(keys, token, { path, now: Math.floor(Date.now() / 1000), client: clientOf(headers).key });
  return check.ok ? { ok: true, query } : { ok: false, reason: `${check.reason}: ${check.detail}` };
}
