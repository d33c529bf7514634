// The one fetch with a deadline, against the real test origin (slow headers, slow bodies,
// a port nobody listens on) and real AbortSignals.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { timedFetch } from "../../src/platform/timed-fetch";
import { behave, putFile, uniquePath } from "../support/origin";

const origin = (env as unknown as { ORIGIN_URL: string }).ORIGIN_URL;
/** Port 9 (discard) on loopback: nothing listens there, the connection is refused. */
const NOBODY = "http://127.0.0.1:9/x";

async function slowBodyFile(): Promise<string> {
  const path = uniquePath("slow-body.bin");
  await putFile(path, 96 * 1024);
  // ~0.75 s for the body; the headers come at once.
  await behave(path, { bytesPerSecond: 128 * 1024 });
  return origin + path;
}

describe("timedFetch", () => {
  it("answers with the response when the headers come in time", async () => {
    const path = uniquePath("quick.bin");
    await putFile(path, 1000);
    const answer = await timedFetch(origin + path, { method: "GET" }, { timeoutMs: 5000 });
    expect(answer.ok).toBe(true);
    if (answer.ok) expect((await answer.response.arrayBuffer()).byteLength).toBe(1000);
  });

  it("a refused connection is kind connect, with the runtime's words in detail", async () => {
    const answer = await timedFetch(NOBODY, {}, { timeoutMs: 5000 });
    expect(answer).toMatchObject({ ok: false, kind: "connect" });
    expect(!answer.ok && answer.detail).toMatch(/^cannot connect: ./);
  });

  it("headers later than the deadline are kind timeout", async () => {
    const path = uniquePath("late.bin");
    await putFile(path, 1000);
    await behave(path, { delayMs: 2000 });
    expect(await timedFetch(origin + path, {}, { timeoutMs: 200 })).toEqual({ ok: false, kind: "timeout", detail: "no answer within 200 ms" });
  });

  it("covers the headers only by default: a body longer than the deadline arrives whole", async () => {
    const answer = await timedFetch(await slowBodyFile(), {}, { timeoutMs: 200 });
    expect(answer.ok).toBe(true);
    if (answer.ok) expect((await answer.response.arrayBuffer()).byteLength).toBe(96 * 1024);
  });

  it('covers the body too with covers: "exchange"', async () => {
    const answer = await timedFetch(await slowBodyFile(), {}, { timeoutMs: 200, covers: "exchange" });
    expect(answer.ok).toBe(true);
    if (answer.ok) await expect(answer.response.arrayBuffer()).rejects.toThrow();
  });

  it("combines the caller's signal with the deadline: the caller's abort is thrown, not reported as the upstream's failure", async () => {
    const path = uniquePath("abort.bin");
    await putFile(path, 1000);
    await behave(path, { delayMs: 2000 });
    const caller = new AbortController();
    const pending = timedFetch(origin + path, { signal: caller.signal }, { timeoutMs: 5000 });
    caller.abort(new Error("client left"));
    await expect(pending).rejects.toThrow("client left");
    // An untouched caller signal leaves the deadline in charge.
    expect(await timedFetch(origin + path, { signal: new AbortController().signal }, { timeoutMs: 200 })).toMatchObject({ ok: false, kind: "timeout" });
  });

  it("uses the fetch it is given", async () => {
    const urls: string[] = [];
    const path = uniquePath("given.bin");
    await putFile(path, 10);
    const answer = await timedFetch(origin + path, {}, { timeoutMs: 5000, fetch: (u, init) => (urls.push(u), fetch(u, init)) });
    expect(urls).toEqual([origin + path]);
    if (answer.ok) await answer.response.arrayBuffer();
  });
});
