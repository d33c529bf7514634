// scripts/dev-stack.mjs as a child process, for the stack tests: started in its own
// process group (workerd included) so a test can stop all of it.
import { spawn } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { inject } from "vitest";
import { freePort } from "../../scripts/lib/free-port.mjs";

const ROOT = path.resolve(import.meta.dirname, "../..");

/**
 * Starts dev-stack.mjs; `ready` resolves once it has printed its last start-up line. It
 * runs the bundles this run built once (bundles.setup.mjs); `env` may set NODE_BUNDLE and
 * BASE_BUNDLE to "" to have the stack build its own, as a user's start does.
 */
export function startStack(env) {
  const bundles = inject("stackBundles");
  const child = spawn(process.execPath, ["scripts/dev-stack.mjs"], { cwd: ROOT, env: { ...process.env, ...bundles, ...env }, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let out = "";
  const ready = new Promise((resolve, reject) => {
    const onData = (d) => {
      out += d;
      if (/\(Ctrl-C stops everything\)$/m.test(out)) resolve(out);
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => reject(new Error(`stack exited ${code} before it was ready:\n${out}`)));
  });
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal, out })));
  return { child, ready, exited, output: () => out };
}

/**
 * The whole local stack on free ports, with its state and demo files in a fresh temp folder
 * (`dir`, the caller removes it): `vars` come on top of the ports and folders. Resolves
 * once the stack is ready, or with a `ready` that rejects. A port found free can be taken
 * before the stack binds it (an outgoing connection of any process may get the same
 * ephemeral port): the stack then refuses to start, naming it, and is started again on new
 * ports, at most three times.
 */
export async function startStackOnFreePorts(prefix, vars = {}) {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  for (let attempt = 1; ; attempt++) {
    const started = await launchOnFreePorts(dir, vars);
    try {
      await started.stack.ready;
      return started;
    } catch (e) {
      if (attempt >= 3 || !/is already in use/.test(String(e?.message))) return started;
    }
  }
}

async function launchOnFreePorts(dir, vars) {
  const [origin, control, a, b, base, f1, f2] = await Promise.all(Array.from({ length: 7 }, () => freePort()));
  const stack = startStack({
    ORIGIN_PORT: String(origin),
    ORIGIN_CONTROL_PORT: String(control),
    NODE_PORTS: `${a},${b}`,
    BASE_PORT: String(base),
    FARM_PORTS: `${f1},${f2}`,
    STATE_DIR: path.join(dir, "state"),
    DEMO_DIR: path.join(dir, "demo"),
    ...vars,
  });
  const url = (port) => `http://127.0.0.1:${port}`;
  return { dir, stack, urls: { origin: url(origin), control: url(control), nodes: [url(a), url(b)], base: url(base), farms: [url(f1), url(f2)] } };
}

/** Ctrl-C, as a user stops it; SIGKILL for the whole group if that has not worked in 15 s. */
export async function stopStack(stack) {
  if (!stack || stack.child.exitCode !== null || stack.child.signalCode !== null) return;
  const group = -stack.child.pid;
  try {
    process.kill(group, "SIGINT");
  } catch {
    return;
  }
  const timedOut = await Promise.race([stack.exited.then(() => false), new Promise((r) => setTimeout(() => r(true), 15_000))]);
  try {
    process.kill(group, "SIGKILL"); // workerd or anything else left in the group
  } catch {}
  if (timedOut) await stack.exited;
}
