// Issue #13: once an isolate holds a file's facts, the health and catalog views (and this
// second's token), the base answers the redirect without a promise (src/platform/soon.ts).
// These tests call the worker's fetch directly, as workerd does, and look at what it returns.
import { env } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../src/base-index";
import { putFile, uniquePath } from "../support/origin";

/** A deployment of its own (per-env memos start empty), with `vars` changed. */
function deployment(vars: Record<string, string>): Env {
  return { ...(env as object), ...vars } as unknown as Env;
}

function get(path: string, method = "GET"): Request<unknown, IncomingRequestCfProperties> {
  return new Request(`http://base.test${path}`, { method, headers: { "cf-connecting-ip": "198.51.100.9" }, redirect: "manual" }) as Request<unknown, IncomingRequestCfProperties>;
}

const fieldsOf = (res: Response) => [...res.headers].sort(([a], [b]) => a.localeCompare(b));

/** A big file at the origin, a deployment of its own and an execution context. */
async function setup(name: string, signingKeys = "") {
  const path = uniquePath(name);
  await putFile(path, 300_000);
  return { path, d: deployment({ SIGNING_KEYS: signingKeys }), ctx: createExecutionContext() };
}

describe("base: a hot redirect is answered at once", () => {
  it("waits for the first redirect's facts, then answers the same redirect without a promise", async () => {
    const { path, d, ctx } = await setup("hot.bin");
    const first = worker.fetch(get(path), d, ctx);
    expect(first).toBeInstanceOf(Promise);
    const cold = await first;
    expect(cold.status).toBe(307);

    const hot = worker.fetch(get(path), d, ctx);
    expect(hot).toBeInstanceOf(Response);
    const res = hot as Response;
    expect(res.status).toBe(307);
    expect(fieldsOf(res)).toEqual(fieldsOf(cold));
    expect(await res.text()).toBe(await cold.text());
    await waitOnExecutionContext(ctx);
  });

  it("answers a hot HEAD at once too, with the GET's fields and no content", async () => {
    const { path, d, ctx } = await setup("hot-head.bin");
    const get307 = await worker.fetch(get(path), d, ctx);
    const head = worker.fetch(get(path, "HEAD"), d, ctx);
    expect(head).toBeInstanceOf(Response);
    expect((head as Response).status).toBe(307);
    expect((head as Response).body).toBeNull();
    expect((head as Response).headers.get("location")).toBe(get307.headers.get("location"));
    await get307.text();
    await waitOnExecutionContext(ctx);
  });

  it("signs a token once per second: a redirect in the same second is answered at once with the same Location", async () => {
    const { path, d, ctx } = await setup("hot-signed.bin", "k1:node-test-secret-0001");
    await (await worker.fetch(get(path), d, ctx)).text();
    // Until two requests fall in one second (each second's first request signs, so waits).
    let pair: [Response, Response | Promise<Response>] | null = null;
    for (let i = 0; i < 5 && !pair; i++) {
      const a = await worker.fetch(get(path), d, ctx);
      const second = Math.floor(Date.now() / 1000);
      const b = worker.fetch(get(path), d, ctx);
      if (Math.floor(Date.now() / 1000) === second) pair = [a, b];
      else await b;
    }
    expect(pair).not.toBeNull();
    const [a, b] = pair!;
    expect(b).toBeInstanceOf(Response);
    expect((b as Response).headers.get("location")).toBe(a.headers.get("location"));
    expect(a.headers.get("location")).toContain("offload_token=k1.");
    await waitOnExecutionContext(ctx);
  });

  it("answers concurrent first redirects alike while the views load", async () => {
    const { path, d, ctx } = await setup("hot-first.bin");
    const answers = await Promise.all(Array.from({ length: 4 }, () => worker.fetch(get(path), d, ctx)));
    expect(answers.map((r) => r.status)).toEqual([307, 307, 307, 307]);
    expect(new Set(answers.map((r) => r.headers.get("location"))).size).toBe(1);
    await waitOnExecutionContext(ctx);
  });
});
