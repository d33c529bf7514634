/**
 * The real static origin (scripts/origin/static-origin.mjs) in its own Node process, so
 * its event loop never competes with the bench's clients, plus its control API.
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startChild } from "./procs.mjs";

const ORIGIN_CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../origin/static-origin.mjs");

/**
 * @param {string} root directory served (temp)
 * @returns {Promise<{ url: string, controlUrl: string, pid: number, control: ReturnType<typeof controlClient> }>}
 */
export async function startOrigin(root) {
  await mkdir(root, { recursive: true });
  const child = startChild(process.execPath, [ORIGIN_CLI, root, "0", "0"]);
  const line = await new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    child.stdout.on("data", (d) => {
      out += d;
      if (out.includes("\n")) resolve(out.split("\n")[0]);
    });
    child.on("exit", (code) => reject(new Error(`origin exited ${code}: ${err}`)));
    setTimeout(() => reject(new Error("origin did not start within 15 s")), 15_000).unref();
  });
  const m = /static origin (http:\/\/\S+) .*\(control (http:\/\/\S+)\)/.exec(line);
  if (!m) throw new Error(`unexpected origin banner: ${line}`);
  return { url: m[1], controlUrl: m[2], pid: child.pid ?? 0, control: controlClient(m[2]) };
}

function controlClient(base) {
  async function call(method, p) {
    const res = await fetch(base + p, { method });
    const body = await res.json();
    if (!res.ok) throw new Error(`origin control ${method} ${p}: ${res.status} ${body.error ?? ""}`);
    return body;
  }
  return {
    /** Deterministic file of `size` bytes (pattern-file.mjs). */
    createFile: (p, size, seed = p) => call("PUT", `/files${p}?size=${size}&seed=${encodeURIComponent(seed)}`),
    stats: (p) => call("GET", p ? `/stats?path=${encodeURIComponent(p)}` : "/stats"),
    reset: () => call("POST", "/reset"),
  };
}
