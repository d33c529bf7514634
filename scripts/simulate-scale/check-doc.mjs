#!/usr/bin/env node
/**
 * Checks that docs/scaling.md quotes the model truthfully: in every fenced block, each
 * `$ node scripts/simulate-scale.mjs [flags]` line is run (a `# comment` after it is
 * ignored) and every line after it, up to the next `$` line, must be a whole line of
 * that run's output. Run it after changing the model or the page:
 *
 *   node scripts/simulate-scale/check-doc.mjs [docs/scaling.md]
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const page = process.argv[2] ?? join(root, "docs", "scaling.md");
const COMMAND = /^\$ node scripts\/simulate-scale\.mjs((?: --[a-z0-9-]+=[^\s#]+)*)\s*(?:#.*)?$/;

/** Each fenced block's lines, with the page line number of the first. */
function blocks(text) {
  const out = [];
  let open = null;
  text.split("\n").forEach((line, i) => {
    if (line.startsWith("```")) {
      if (open) out.push(open), (open = null);
      else open = { at: i + 2, lines: [] };
    } else if (open) open.lines.push(line);
  });
  return out;
}

const runs = new Map();
function run(flags) {
  if (!runs.has(flags)) {
    const args = flags.trim() ? flags.trim().split(/\s+/) : [];
    const output = execFileSync(process.execPath, [join(root, "scripts", "simulate-scale.mjs"), ...args], { encoding: "utf8", maxBuffer: 1 << 26 });
    runs.set(flags, new Set(output.split("\n")));
  }
  return runs.get(flags);
}

let checked = 0;
const missing = [];
for (const block of blocks(readFileSync(page, "utf8"))) {
  let lines = null;
  block.lines.forEach((line, k) => {
    const m = COMMAND.exec(line);
    if (m) lines = run(m[1]);
    else if (line.startsWith("$ ")) missing.push(`${page}:${block.at + k}: not a simulate-scale command: ${line}`);
    else if (lines) {
      checked++;
      if (!lines.has(line)) missing.push(`${page}:${block.at + k}: not in the output: ${line}`);
    }
  });
}
for (const m of missing) console.error(m);
console.log(`${checked} quoted lines checked against ${runs.size} runs, ${missing.length} not found`);
process.exit(missing.length > 0 ? 1 : 0);
