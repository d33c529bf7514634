import { beforeEach, describe, expect, it } from "vitest";
import type { ProxyBackend } from "../../../src/config/proxy-config";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { passiveMarks } from "../../../src/proxy/failover";
import { inFlight } from "../../../src/proxy/pool";
import { proxyRequest } from "../../../src/proxy/proxy";
import { backendUrl, clientRequest, echo, freshEnv, PUBLIC, resetBackends, routeOf, send } from "./support";

const MiB = 1024 * 1024;

function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
  return out;
}

async function sha256(data: Uint8Array): Promise<string> {
  return [...new Uint8Array(await crypto.subtle.digest("SHA-256", data))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** A body produced chunk by chunk, optionally with pauses, optionally failing after `failAfter` chunks. */
function chunked(chunks: Uint8Array[], pauseMs = 0, failAfter = -1): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    async pull(c) {
      if (pauseMs) await new Promise((r) => setTimeout(r, pauseMs));
      if (i === failAfter) return c.error(new Error("client went away"));
      if (i === chunks.length) return c.close();
      c.enqueue(chunks[i++]!);
    },
  });
}

describe("proxy: bodies are streamed", () => {
  beforeEach(resetBackends);
  const route = routeOf({ prefix: "/up/", backends: [backendUrl(0)], timeoutMs: 500 });

  it("a several-MB upload with Content-Length arrives intact, with its length (not chunked)", async () => {
    const data = randomBytes(6 * MiB + 123);
    const seen = await echo(await send(route, "/up/file", { method: "POST", body: data, headers: { "content-type": "application/octet-stream", "content-length": String(data.length) } }));
    expect(seen.bodyLength).toBe(data.length);
    expect(seen.bodySha256).toBe(await sha256(data));
    expect(seen.headers["content-length"]).toBe(String(data.length));
    expect(seen.headers["transfer-encoding"]).toBeUndefined();
  });

  it("an upload of unknown length goes out chunked, intact", async () => {
    const parts = Array.from({ length: 48 }, () => randomBytes(64 * 1024));
    const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    parts.reduce((at, p) => (all.set(p, at), at + p.length), 0);
    const seen = await echo(await send(route, "/up/stream", { method: "PUT", body: chunked(parts) }));
    expect(seen.bodyLength).toBe(3 * MiB);
    expect(seen.bodySha256).toBe(await sha256(all));
    expect(seen.headers["transfer-encoding"]).toBe("chunked");
  });

  it("the timeout measures silence, not upload time: a slow upload longer than timeoutMs succeeds", async () => {
    const parts = Array.from({ length: 8 }, (_, i) => new TextEncoder().encode(`part ${i};`));
    const started = Date.now();
    const seen = await echo(await send(route, "/up/slow", { method: "POST", body: chunked(parts, 150) }));
    expect(Date.now() - started).toBeGreaterThan(1000); // twice the 500 ms timeout
    expect(seen.body).toBe(parts.map((p) => new TextDecoder().decode(p)).join(""));
  });

  it("a client that breaks off its upload gets 400 and does not get the backend marked down", async () => {
    const e = freshEnv();
    const res = await send(route, "/up/broken", { env: e, method: "POST", body: chunked([randomBytes(1000), randomBytes(1000), randomBytes(1000)], 0, 2) });
    expect(res.status).toBe(400);
    expect(await res.text()).toBe("proxy route /up/: the request body could not be read to its end\n");
    expect(passiveMarks(e).size).toBe(0);
  });

  it("leaves X-Sendfile / X-Accel-Redirect alone and hands the response to onBackendResponse", async () => {
    const extra = { "x-sendfile": "/srv/files/big.iso", "x-accel-redirect": "/protected/big.iso" };
    const calls: string[] = [];
    const onBackendResponse = async (res: Response, b: ProxyBackend) => {
      calls.push(`${b.url} ${res.status} ${res.headers.get("x-sendfile")}`);
      const h = new Headers(res.headers);
      h.set("x-hooked", "1");
      return new Response(res.body, { status: res.status, headers: h });
    };
    const res = await send(route, "/up/x", { headers: { "x-echo-header": JSON.stringify(extra) }, options: { onBackendResponse } });
    expect(res.headers.get("x-sendfile")).toBe("/srv/files/big.iso");
    expect(res.headers.get("x-accel-redirect")).toBe("/protected/big.iso");
    expect(res.headers.get("x-hooked")).toBe("1");
    expect(calls).toEqual([`${backendUrl(0)} 200 /srv/files/big.iso`]);
    expect((await echo(res)).backend).toBe("b0");
  });

  it("a hook that throws: the error propagates and the backend's body stops counting as in flight", async () => {
    const e = freshEnv();
    const ctx = createExecutionContext();
    const onBackendResponse = async () => {
      throw new Error("sendfile: not allowed");
    };
    await expect(proxyRequest(route, clientRequest("/up/x"), ctx, e, PUBLIC, { onBackendResponse })).rejects.toThrow("sendfile: not allowed");
    await waitOnExecutionContext(ctx);
    expect(inFlight(e).size).toBe(0);
  });

  it("HEAD keeps the backend's Content-Length and sends no body", async () => {
    const res = await send(route, "/up/x", { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(Number(res.headers.get("content-length"))).toBeGreaterThan(0);
    expect((await res.arrayBuffer()).byteLength).toBe(0);
  });
});
