// scripts/dev-stack.mjs validates the base's farm, proxy, admin and stats variables with
// the worker's own parsers before it starts anything: a bad value exits 1 naming the field.
import { spawn } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { freePort } from "../../scripts/lib/free-port.mjs";

const ROOT = path.resolve(import.meta.dirname, "../..");

/** Runs dev-stack.mjs to its exit (it must fail before binding any port or bundling). */
async function startExpectingFailure(env) {
  const ports = {
    ORIGIN_PORT: String(await freePort()),
    NODE_PORTS: `${await freePort()},${await freePort()}`,
    BASE_PORT: String(await freePort()),
  };
  const child = spawn(process.execPath, ["scripts/dev-stack.mjs"], { cwd: ROOT, env: { ...process.env, ...ports, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (out += d));
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  const code = await new Promise((resolve) => child.once("exit", resolve));
  clearTimeout(timer);
  return { code, out };
}

describe("dev stack: the base's farm, proxy, admin and stats settings are checked at start", () => {
  it.each([
    [{ FARMS: '{"farm_one":{"members":[]}}' }, "invalid config FARMS.farm_one.members"],
    [{ FARMS: '{"farm_one":{"members":["http://127.0.0.1:9"],"algorithm":"fastest"}}' }, "invalid config FARMS.farm_one.algorithm"],
    [{ PROXY_ROUTES: '[{"prefix":"/app/"}]' }, "invalid config PROXY_ROUTES[0]"],
    // Rewrite rules compile for RE2 (re2js) under plain Node too: a backreference is refused.
    [{ PROXY_ROUTES: '[{"prefix":"/app/","backends":["http://127.0.0.1:9"],"rewriteRequest":[{"header":"uri","match":"^/(a)\\\\1","replace":"/"}]}]' }, "invalid config PROXY_ROUTES[0].rewriteRequest[0].match"],
    [{ ADMIN_TOKEN: "too-short" }, "invalid config ADMIN_TOKEN"],
    [{ ATH_TOKEN: "too-short" }, "invalid config ATH_TOKEN"],
    [{ STATS_FLUSH_SECONDS: "-1" }, "STATS_FLUSH_SECONDS"],
    [{ FARM_PORTS: "8090,web2" }, "invalid FARM_PORTS"],
    [{ NODE_BUNDLE: "/nonexistent/offload-node.js" }, "invalid NODE_BUNDLE: no bundle at /nonexistent/offload-node.js"],
  ])("%o is refused: %s", async (env, message) => {
    const { code, out } = await startExpectingFailure(env);
    expect(code, out).toBe(1);
    expect(out).toContain(message);
    expect(out).not.toMatch(/^\s+at /m); // an expected error: message only, no stack trace
    expect(out).not.toMatch(/^base\s+http/m);
  });
});
