/**
 * Failed admin sign-ins, counted per client (issue #11, "Tokens"): the login form and
 * every request presenting ADMIN_TOKEN as Bearer or Basic credentials.
 *
 * A client may fail SIGNIN_FAILURES times in a window of SIGNIN_WINDOW_MS that starts at
 * its first failure; from then on every sign-in attempt it makes, right or wrong, is
 * answered 429 with Retry-After (RFC 6585 §4) until the window ends. Right ones too:
 * otherwise the 429s would tell wrong guesses from the right one and guessing would
 * go on unlimited. A success before the limit clears the count.
 *
 * Why 10 per 15 minutes: an operator mistyping or pasting an old token fails a few times,
 * not ten; an attacker gets under 1,000 guesses a day per address, against a token of
 * at least 16 characters (config/admin-config.ts). Counted per client address (IPv6 by
 * /64, limits/client-key.ts), in one object per client: an attacker locks out only
 * itself, never the operator signing in from elsewhere. The object deletes its state
 * when the window ends (an alarm), so storage holds only clients failing right now.
 */
import { DurableObject } from "cloudflare:workers";
import { clientOf } from "../limits/client-key";

export const SIGNIN_FAILURES = 10;
export const SIGNIN_WINDOW_MS = 15 * 60 * 1000;

export type SignInVerdict = { allowed: true } | { allowed: false; retryAfterSeconds: number };

interface Window {
  failures: number;
  ends: number;
}

export class SignInLimiter extends DurableObject<Env> {
  /** Records one attempt (`ok`: the presented token was right) and says whether it may count. */
  async attempt(ok: boolean, now = Date.now()): Promise<SignInVerdict> {
    const stored = await this.ctx.storage.get<Window>("window");
    const window = stored && now < stored.ends ? stored : null;
    if (window && window.failures >= SIGNIN_FAILURES) return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((window.ends - now) / 1000)) };
    if (ok) {
      if (stored) await this.clear();
      return { allowed: true };
    }
    const next = window ? { failures: window.failures + 1, ends: window.ends } : { failures: 1, ends: now + SIGNIN_WINDOW_MS };
    await this.ctx.storage.put("window", next);
    if (!window) await this.ctx.storage.setAlarm(next.ends);
    return { allowed: true };
  }

  override async alarm(): Promise<void> {
    await this.ctx.storage.deleteAll();
  }

  private async clear(): Promise<void> {
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
  }
}

/**
 * The limiter of the client sending `headers`. A request without a usable
 * CF-Connecting-IP did not come through Cloudflare (which always sets it): such clients
 * share one bucket, since clientOf gives each of them a key of its own and a per-request
 * key would be no limit at all. That bucket can lock out only other header-less callers.
 */
export function signInLimiter(env: Pick<Env, "SIGNIN_LIMITER">, headers: Headers): DurableObjectStub<SignInLimiter> {
  const client = clientOf(headers);
  const key = client.unidentified ? "unidentified" : client.key;
  return env.SIGNIN_LIMITER.get(env.SIGNIN_LIMITER.idFromName(`admin-signin ${key}`));
}
