/**
 * Server-side admin sessions (issue #11 L8). The session cookie is still an HMAC over
 * its nonce and expiry (session.ts: changing ADMIN_TOKEN ends every session), and on
 * top of that a session counts only while its own object says it is open:
 *
 *   sign-in  -> open(expires)   the object records the expiry and sets an alarm for it
 *   request  -> isOpen()        one round trip per cookie-authenticated admin request
 *   sign-out -> close()         storage deleted: the cookie is refused everywhere at once
 *   expiry   -> alarm()         storage deleted: nothing piles up
 *
 * One object per session (named by its nonce), not one list of all sessions: each
 * object holds one row and deletes itself at its expiry, so storage is bounded by the
 * sessions alive right now with no sweep, and a sign-out is exact. An allow-list rather
 * than a list of revocations: a session the server never recorded (or lost) is refused,
 * and failure is closed. Admin traffic is a handful of requests a minute, so the round
 * trip per request is cheap next to what it buys.
 */
import { DurableObject } from "cloudflare:workers";

export class AdminSession extends DurableObject<Env> {
  /** Records the session as open until `expires` (ms since the epoch). */
  async open(expires: number): Promise<void> {
    await this.ctx.storage.put("expires", expires);
    await this.ctx.storage.setAlarm(expires);
  }

  async isOpen(now = Date.now()): Promise<boolean> {
    const expires = await this.ctx.storage.get<number>("expires");
    return expires !== undefined && now < expires;
  }

  async close(): Promise<void> {
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
  }

  override async alarm(): Promise<void> {
    await this.ctx.storage.deleteAll();
  }
}

type SessionsEnv = Pick<Env, "ADMIN_SESSIONS">;
const sessionObject = (env: SessionsEnv, nonce: string) => env.ADMIN_SESSIONS.get(env.ADMIN_SESSIONS.idFromName(`admin-session ${nonce}`));

export const openSession = (env: SessionsEnv, nonce: string, expires: number) => sessionObject(env, nonce).open(expires);
export const sessionIsOpen = (env: SessionsEnv, nonce: string) => sessionObject(env, nonce).isOpen();
export const closeSession = (env: SessionsEnv, nonce: string) => sessionObject(env, nonce).close();
