// What a node answers when it cannot do its work: a configuration it cannot use, or an
// error nothing on the download's way caught. Downloads bypass Hono's router (node/app.ts),
// so these are the node's own answers, checked here with real bindings and a real origin.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { putFile, uniquePath } from "../support/origin";
import { envWithVars, fetchWithEnv, fetchWithVars } from "../support/app";

const MiB = 1024 * 1024;

describe("node answers for its own failures", () => {
  it("a bad var answers 500 naming it, to GET with the reason and to HEAD without a body", async () => {
    const path = uniquePath("bad-config.bin");
    await putFile(path, 2000);
    const get = await fetchWithVars({ REVALIDATE_SECONDS: "soon" }, path);
    expect(get.status).toBe(500);
    expect(await get.text()).toMatch(/REVALIDATE_SECONDS/);
    const head = await fetchWithVars({ REVALIDATE_SECONDS: "soon" }, path, { method: "HEAD" });
    expect(head.status).toBe(500);
    expect(head.headers.get("content-type")).toMatch(/^text\/plain/);
    expect((await head.arrayBuffer()).byteLength).toBe(0);
  });

  it("an error nothing caught answers 500 with a request id and Cache-Status, no details", async () => {
    // A real binding of the wrong class: the guard's limiter call fails inside the download.
    const broken = envWithVars({});
    (broken as unknown as { CONCURRENCY: unknown }).CONCURRENCY = (env as unknown as { FILLS: unknown }).FILLS;
    const path = uniquePath("uncaught.bin");
    await putFile(path, 2 * MiB);
    const res = await fetchWithEnv(broken, path, { headers: { "cf-ray": "8f1b2c3d4e5f6a70-AMS" } });
    expect(res.status).toBe(500);
    expect(await res.text()).toBe("internal error in the offload node (request id 8f1b2c3d4e5f6a70-AMS)\n");
    expect(res.headers.get("x-request-id")).toBe("8f1b2c3d4e5f6a70-AMS");
    expect(res.headers.get("cache-status")).toMatch(/; fwd=bypass$/);
  });
});
