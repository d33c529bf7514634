/**
 * Sample content for the demo origin, created on first run (existing files are left
 * alone, so a restart is instant and edits survive). Big files use the deterministic
 * pattern from the static origin, written in streamed chunks, so their bytes and
 * sha256 are the same on every machine.
 */
import { mkdir, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { writePatternFile } from "../origin/pattern-file.mjs";

const MiB = 1024 * 1024;

const INDEX_HTML = `<!doctype html>
<meta charset="utf-8">
<title>edge offload CDN demo origin</title>
<h1>Demo origin</h1>
<p>Files below are served by the local static origin; fetch them through an offload node
(http://127.0.0.1:8788/...) to see them cached.</p>
<ul>
  <li><a href="/small/hello.txt">/small/hello.txt</a></li>
  <li><a href="/releases/app-1.0.tar.gz">/releases/app-1.0.tar.gz</a> (5 MiB)</li>
  <li><a href="/iso/distro-64m.iso">/iso/distro-64m.iso</a> (64 MiB)</li>
</ul>
`;

/** @type {{ path: string, text?: string, size?: number, seed?: string }[]} */
export const DEMO_FILES = [
  { path: "index.html", text: INDEX_HTML },
  { path: "small/hello.txt", text: "Hello from the demo origin.\n" },
  { path: "releases/app-1.0.tar.gz", size: 5 * MiB, seed: "app-1.0" },
  { path: "iso/distro-64m.iso", size: 64 * MiB, seed: "distro-64m" },
];

/**
 * Create missing demo files under `dir`.
 * @param {string} dir
 * @returns {Promise<{ created: string[], existing: string[] }>}
 */
export async function ensureDemoFiles(dir) {
  const created = [];
  const existing = [];
  for (const f of DEMO_FILES) {
    const file = path.join(dir, f.path);
    if (await stat(file).then(() => true, () => false)) {
      existing.push(f.path);
      continue;
    }
    await mkdir(path.dirname(file), { recursive: true });
    if (f.text !== undefined) await writeFile(file, f.text);
    else await writePatternFile(file, f.size ?? 0, f.seed ?? f.path);
    created.push(f.path);
  }
  return { created, existing };
}
