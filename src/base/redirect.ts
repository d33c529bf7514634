import { perIsolate } from "../platform/per-isolate";

/**
 * The redirect answer. Its header fields are a function of the target's URL (the file, the
 * query, a token for this second), the ranking they were built from, the file's facts and
 * the client's Want-Repr-Digest, so an isolate keeps them (issue #13): a hot file's
 * redirect then costs no header building, and a Response made from a ready Headers object
 * is the cheapest one workerd makes (measured: about a third of one made from
 * [name, value] pairs). An entry is used only while the very ranking and facts objects it
 * was built from are the current ones (a new health view, catalog or object-info entry
 * makes new objects), so it can never outlive what it says.
 */
export interface RedirectFacts {
  /** The file's canonical path. */
  path: string;
  location: string;
  /** The ranking the fields name (Link, X-Mirrored-By): its identity, not its contents. */
  choice: object;
  /** The file's facts (Repr-Digest): its identity. */
  info: object;
  wantReprDigest: string | null;
}

interface Kept {
  choice: object;
  info: object;
  headers: Headers;
}

/** Distinct redirects kept per isolate; the oldest goes first. */
const MAX_KEPT = 1000;
const keptOf = perIsolate((_env: object) => new Map<string, Kept>());

/**
 * The redirect's fields for `facts`, built by `build` (the mirror metadata, a Headers the
 * caller made for this redirect alone) only when this isolate does not hold them yet. The
 * object returned is shared: only a Response may be made from it, which copies it.
 */
export function redirectFields(env: object, facts: RedirectFacts, build: () => Headers, cacheStatus: string): Headers {
  const kept = keptOf(env);
  const key = `${facts.path}\n${facts.location}\n${facts.wantReprDigest ?? ""}`;
  const hit = kept.get(key);
  if (hit && hit.choice === facts.choice && hit.info === facts.info) return hit.headers;
  const headers = withRedirectFields(build(), facts.location, cacheStatus);
  if (!hit && kept.size >= MAX_KEPT) kept.delete(kept.keys().next().value!);
  kept.set(key, { choice: facts.choice, info: facts.info, headers });
  return headers;
}

/** `headers`: the mirror metadata (none of the fields set here), taken over. */
export function withRedirectFields(headers: Headers, location: string, cacheStatus: string): Headers {
  headers.set("location", location);
  // The choice is per client and per moment: no shared cache may keep it (RFC 9111 §5.2.2.7).
  headers.set("cache-control", "private, no-store");
  headers.set("cache-status", cacheStatus);
  headers.set("content-type", "text/plain; charset=utf-8");
  return headers;
}

export function redirectAnswer(status: number, location: string, headers: Headers): Response {
  return new Response(`redirecting to ${location}\n`, { status, headers });
}
