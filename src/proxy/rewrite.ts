/**
 * mod_proxy_core's rewrite-request / rewrite-response: regex rules on the request URI,
 * the Host sent upstream and any header, and on the response's Location (or any header).
 * Pure: the rules were compiled by the config (src/config/proxy-config.ts) for RE2, whose
 * matching is linear in the value: a URI or header a client chooses cannot make a rule
 * backtrack. Replacement strings keep String.prototype.replace's meaning ($1, $<name>, $&, $$).
 *
 * Per field the rules are tried in order and the first whose regex matches rewrites the
 * value (only the matched part is replaced, as String.prototype.replace does, so
 * "^/app/" -> "/" keeps the rest); later rules for the same field are skipped.
 */
import type { RewriteRule } from "../config/proxy-config";

/** The value rewritten by the first matching rule for `field`, or null when none matched. */
export function rewriteValue(rules: readonly RewriteRule[], field: string, value: string): string | null {
  for (const rule of rules) {
    // Two linear passes: test() runs on the DFA without captures; replaceFirst() finds the
    // same leftmost match again, with its groups.
    if (rule.header === field && rule.match.test(value)) return rule.match.matcher(value).replaceFirst(rule.replace);
  }
  return null;
}

export interface RequestRewrite {
  /** Path + query to append to the backend URL. */
  target: string;
  /** The Host the backend should see when a "host" rule matched; null = the backend URL's own. */
  host: string | null;
  headers: Headers;
}

/**
 * Request rules: "uri" on path + query ("/app/x?y=1"), "host" on the client's Host, any
 * other name on that upstream header (absent headers are not created). `headers` is copied.
 */
export function rewriteRequest(rules: readonly RewriteRule[], target: string, clientHost: string, headers: Headers): RequestRewrite {
  let uri = target;
  let host: string | null = null;
  // No rules: the caller's headers (a fresh copy from upstreamHeaders) are used as they are.
  if (rules.length === 0) return { target: uri, host, headers };
  const out = new Headers(headers);
  const rewritten = rewriteValue(rules, "uri", target);
  // A rule must not turn the request target into something that is not a path.
  if (rewritten !== null) uri = rewritten.startsWith("/") ? rewritten : `/${rewritten}`;
  host = rewriteValue(rules, "host", clientHost);
  for (const name of new Set(rules.map((r) => r.header))) {
    if (name === "uri" || name === "host") continue;
    const value = out.get(name);
    if (value === null) continue;
    const next = rewriteValue(rules, name, value);
    if (next !== null) out.set(name, next);
  }
  return { target: uri, host, headers: out };
}

/**
 * Response rules on `headers`, in place (the caller's own copy of the backend's fields).
 * Without a "location" rule, `defaultLocation` rewrites Location (proxy_redirect default:
 * the backend's own URLs become the public ones); with one, the rules alone decide.
 * Set-Cookie is rewritten cookie by cookie.
 */
export function rewriteResponse(rules: readonly RewriteRule[], headers: Headers, defaultLocation: (location: string) => string): Headers {
  const location = headers.get("location");
  if (rules.length === 0 && location === null) return headers;
  const names = new Set(rules.map((r) => r.header));
  if (location !== null && !names.has("location")) headers.set("location", defaultLocation(location));
  for (const name of names) {
    if (name === "set-cookie") {
      const cookies = headers.getSetCookie();
      if (cookies.length === 0) continue;
      headers.delete("set-cookie");
      for (const c of cookies) headers.append("set-cookie", rewriteValue(rules, name, c) ?? c);
      continue;
    }
    const value = headers.get(name);
    if (value === null) continue;
    const next = rewriteValue(rules, name, value);
    if (next !== null) headers.set(name, next);
  }
  return headers;
}
