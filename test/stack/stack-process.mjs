// scripts/dev-stack.mjs as a child process, for the stack tests: started in its own
// process group (workerd included) so a test can stop all of it.
import { spawn } from "node:child_process";
import path from "node:path";

const ROOT = path.resolve(import.meta.dirname, "../..");

/** Starts dev-stack.mjs; `ready` resolves once it has printed its last start-up line. */
export function startStack(env) {
  const child = spawn(process.execPath, ["scripts/dev-stack.mjs"], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"], detached: true });
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
