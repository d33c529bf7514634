// Starts a throw-away nginx serving `root` on 127.0.0.1:port, as the reference
// ("oracle") for what a static file server answers to Range and conditional
// requests. Everything nginx writes (pid, logs, temp dirs) lives in a fresh
// temp dir that close() removes.
//
//   import { startNginx } from "./start-nginx.mjs";
//   const nginx = await startNginx({ root: "/some/dir" });   // port optional
//   const res = await fetch(nginx.url + "/file.bin", { headers: { Range: "bytes=0-1" } });
//   await nginx.close();
//
// nginx comes from Debian: `apt-get install -y nginx-light` (binary /usr/sbin/nginx);
// NGINX_BIN overrides the path.

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile, mkdir } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePort } from "../lib/free-port.mjs";

const CANDIDATES = ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx", "/usr/bin/nginx"];

/** Path of the nginx binary, or undefined. */
export function findNginx() {
  if (process.env.NGINX_BIN) return existsSync(process.env.NGINX_BIN) ? process.env.NGINX_BIN : undefined;
  return CANDIDATES.find((p) => existsSync(p));
}


function canConnect(port) {
  return new Promise((done) => {
    const s = connect({ host: "127.0.0.1", port });
    s.once("connect", () => { s.destroy(); done(true); });
    s.once("error", () => done(false));
  });
}

/**
 * The configuration: one server, static files only. `if_modified_since before`
 * makes nginx answer 304 when Last-Modified <= If-Modified-Since (RFC 9110
 * §13.1.3) instead of only on an exact match (its default `exact`).
 * Types: .bin application/octet-stream, .txt text/plain, .html text/html;
 * anything else gets no Content-Type at all (default_type ""), so multipart
 * parts without Content-Type can be observed. Under /charset/ nginx adds
 * "; charset=utf-8" to text types; under /max1/ `max_ranges 1` applies.
 */
export function nginxConf({ root, port, prefix, extra = "" }) {
  return `daemon off;
master_process off;
worker_processes 1;
error_log ${prefix}/error.log warn;
pid ${prefix}/nginx.pid;
events { worker_connections 128; }
http {
    access_log off;
    client_body_temp_path ${prefix}/tmp/body;
    proxy_temp_path ${prefix}/tmp/proxy;
    fastcgi_temp_path ${prefix}/tmp/fastcgi;
    uwsgi_temp_path ${prefix}/tmp/uwsgi;
    scgi_temp_path ${prefix}/tmp/scgi;
    types {
        application/octet-stream bin;
        text/plain txt;
        text/html html;
    }
    default_type "";
    if_modified_since before;
    server_tokens off;
    server {
        listen 127.0.0.1:${port};
        server_name localhost;
        root ${root};
        location / { }
        location /charset/ { charset utf-8; }
        location /max1/ { max_ranges 1; }
        ${extra}
    }
}
`;
}

/**
 * Starts nginx; resolves once it accepts connections.
 * @param {{ root: string, port?: number, extra?: string }} opts
 * @returns {Promise<{ url: string, port: number, prefix: string, close(): Promise<void> }>}
 */
export async function startNginx({ root, port, extra }) {
  const bin = findNginx();
  if (!bin) {
    throw new Error(
      "nginx not found (looked at " + CANDIDATES.join(", ") + "). Install it with " +
        "`apt-get update && apt-get install -y nginx-light`, or set NGINX_BIN.",
    );
  }
  const listenPort = port ?? (await freePort());
  const prefix = await mkdtemp(join(tmpdir(), "nginx-oracle-"));
  await mkdir(join(prefix, "tmp"), { recursive: true });
  const confPath = join(prefix, "nginx.conf");
  await writeFile(confPath, nginxConf({ root: resolve(root), port: listenPort, prefix, extra }));

  const child = spawn(bin, ["-c", confPath, "-p", prefix + "/", "-e", join(prefix, "error.log")], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d) => { stderr += d; });
  let exited = null;
  const exitPromise = new Promise((done) => child.once("exit", (code, signal) => {
    exited = { code, signal };
    done();
  }));

  const deadline = Date.now() + 10_000;
  while (!(await canConnect(listenPort))) {
    if (exited || Date.now() > deadline) {
      if (!exited) child.kill("SIGKILL");
      await rm(prefix, { recursive: true, force: true });
      throw new Error(
        `nginx did not start on 127.0.0.1:${listenPort}` +
          (exited ? ` (exit ${exited.code ?? exited.signal})` : " (timeout)") + `: ${stderr.trim()}`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }

  return {
    url: `http://127.0.0.1:${listenPort}`,
    port: listenPort,
    prefix,
    async close() {
      if (!exited) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => { if (!exited) child.kill("SIGKILL"); }, 3000);
        await exitPromise;
        clearTimeout(timer);
      }
      await rm(prefix, { recursive: true, force: true });
    },
  };
}
