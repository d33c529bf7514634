// A proxy route's answer as the client's connection carries it: the base bundle built as a
// deploy builds it, run by workerd (Miniflare, direct socket, no edge front in between),
// read byte for byte over a raw socket.
//
// Why at this level: a backend answer with nothing to change goes out as the backend's own
// Response (src/proxy/proxy.ts), so its `Connection: keep-alive` and `Keep-Alive` are still
// in the Headers a worker returns. RFC 9110 §7.6.1 says they belong to one connection; it
// is the runtime's HTTP server that keeps them off the client's (as Cloudflare's edge does,
// and HTTP/2 and /3 forbid them). If a workerd update stopped doing that, this test says so.
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { freePort } from "../../scripts/lib/free-port.mjs";
import { readWorkerConfig } from "../../scripts/stack/worker-build.mjs";
import { startProxyBackends } from "../support/proxy-backends.mjs";

const ROOT = path.resolve(import.meta.dirname, "../..");

/**
 * One GET over its own connection, `Connection: close` unless `connection` says otherwise;
 * the raw head lines (lowercase names) and the body, read up to its Content-Length.
 */
function rawGet(url, target, { connection = "close", ...headers } = {}) {
  const { hostname, port } = new URL(url);
  const lines = [`GET ${target} HTTP/1.1`, `Host: ${hostname}:${port}`, "CF-Connecting-IP: 192.0.2.7", `Connection: ${connection}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => socket.write(`${lines.join("\r\n")}\r\n\r\n`));
    let received = Buffer.alloc(0);
    const parsed = () => {
      const text = received.toString("latin1");
      const split = text.indexOf("\r\n\r\n");
      if (split < 0) return null;
      const [status, ...rest] = text.slice(0, split).split("\r\n");
      const fields = rest.map((f) => [f.slice(0, f.indexOf(":")).toLowerCase(), f.slice(f.indexOf(":") + 1).trim()]);
      const length = Number(fields.find(([n]) => n === "content-length")?.[1] ?? NaN);
      const body = text.slice(split + 4);
      return body.length >= length ? { status, fields, body } : null;
    };
    socket.on("data", (c) => {
      received = Buffer.concat([received, c]);
      const done = parsed();
      if (done) {
        socket.destroy();
        resolve(done);
      }
    });
    socket.once("error", reject);
    socket.once("end", () => reject(new Error(`connection ended before a whole answer: ${received.toString("latin1").slice(0, 200)}`)));
  });
}

describe("proxy route on the wire (workerd's own socket)", () => {
  let tmp;
  let mf;
  let backends;
  let url;
  let backendUrl;

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(tmpdir(), "proxy-wire-"));
    const [port, controlPort] = [await freePort(), await freePort()];
    backends = await startProxyBackends({ ports: [port], controlPort });
    backendUrl = `http://127.0.0.1:${port}`;
    // Built once for this run's stack tests (bundles.setup.mjs), as a deploy builds it.
    const bundle = inject("stackBundles").BASE_BUNDLE;
    const config = await readWorkerConfig(ROOT, "wrangler.base.toml");
    // Miniflare 5 takes its options in its own shape; this converts the v4 one wrangler documents.
    mf = new Miniflare(convertV4MiniflareOptions({
      host: "127.0.0.1",
      port: 0,
      resourcePersistencePath: path.join(tmp, "state"),
      workers: [
        {
          name: config.name,
          modules: true,
          scriptPath: bundle,
          modulesRoot: path.dirname(bundle),
          compatibilityDate: config.compatibilityDate,
          compatibilityFlags: config.compatibilityFlags,
          bindings: { ...config.vars, PROXY_ROUTES: JSON.stringify([{ prefix: "/plain/", backends: [{ id: "b0", url: `http://127.0.0.1:${port}` }] }]) },
          r2Buckets: config.r2Buckets,
          durableObjects: Object.fromEntries(config.durableObjects.map((d) => [d.binding, { className: d.className, useSQLite: d.sqlite }])),
          unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
        },
      ],
    }));
    await mf.ready;
    const direct = await mf.unsafeGetDirectURL(config.name);
    url = `http://${direct.hostname}:${direct.port}`;
  });

  afterAll(async () => {
    await mf?.dispose();
    await backends?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it("a keep-alive backend's Connection and Keep-Alive never reach the client", async () => {
    // The backend does send them on a kept-alive connection (as the runtime's fetch keeps it).
    const direct = await rawGet(backendUrl, "/plain/x", { connection: "keep-alive" });
    expect(direct.fields.map(([n]) => n)).toContain("keep-alive");
    const res = await rawGet(url, "/plain/x?q=1");
    expect(res.status).toBe("HTTP/1.1 200 OK");
    expect(JSON.parse(res.body).path).toBe("/plain/x");
    const names = res.fields.map(([n]) => n);
    expect(names).toContain("x-backend");
    expect(names).not.toContain("keep-alive");
    // Only the runtime's own word about this connection, never the backend's.
    for (const [n, v] of res.fields) if (n === "connection") expect(v.toLowerCase()).toBe("close");
  });

  it("fields a backend's Connection names are removed as well", async () => {
    const res = await rawGet(url, "/plain/x", { "x-echo-hop": "1" });
    expect(res.status).toBe("HTTP/1.1 200 OK");
    const names = res.fields.map(([n]) => n);
    for (const gone of ["keep-alive", "x-hop-named", "proxy-authenticate"]) expect(names).not.toContain(gone);
    expect(res.fields).toContainEqual(["x-end-to-end", "kept"]);
  });
});
