// What every bench report states about its run: the commit measured, and how many other
// workerd processes shared the machine (a figure taken next to one is suspect).
import { execFileSync } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";

/** Short HEAD commit, marked when src/ has uncommitted changes. */
export function gitDescribe(root) {
  try {
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root }).toString().trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--", "src"], { cwd: root }).toString().trim() ? " + uncommitted src changes" : "";
    return head + dirty;
  } catch {
    return "unknown";
  }
}

/** workerd processes running on this machine. */
export async function otherWorkerds() {
  let n = 0;
  for (const e of await readdir("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    const comm = await readFile(`/proc/${e}/comm`, "utf8").catch(() => "");
    if (comm.startsWith("workerd")) n++;
  }
  return n;
}
