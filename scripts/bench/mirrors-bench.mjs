/**
 * Mirror inventory benchmark (docs/scaling.md 2e): the base bundle's MirrorInventory in one
 * workerd (Miniflare), M mirrors (plain Node HTTP servers answering HEAD with the origin's
 * size and date) x N known files. Prints rows, the SQLite file's size, time per scan run
 * (one batch per mirror) and the time of a verdict lookup (check() with every verdict known).
 * Run through `bash scripts/bench-mirrors`; BENCH_MIRRORS / BENCH_FILES / BENCH_BATCH override.
 */
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";
import { buildWorkerBundle, readWorkerConfig } from "../stack/worker-build.mjs";
import { benchMiniflareOptions } from "./workerd-boot.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const MIRRORS = Number(process.env.BENCH_MIRRORS ?? 10);
const FILES = Number(process.env.BENCH_FILES ?? 10_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 500);
const SIZE = 1_000_000;
const DATE = new Date(1_700_000_000_000).toUTCString();
const checks = { timeoutMs: 3000, verdictSeconds: 86_400, recheckSeconds: 3600 };
const scans = { scanMinutes: 60, batch: BATCH, concurrency: 4, listMaxBytes: 1 << 24, maxLagFiles: 0, maxLagSeconds: 0 };
const log = (m) => process.stderr.write(`[bench-mirrors] ${m}\n`);
const ms = (t0) => performance.now() - t0;

/** A mirror: every path exists, at the origin's size and date (HEAD only). */
function startMirror() {
  const server = http.createServer((req, res) => {
    res.writeHead(200, { "content-length": String(SIZE), "last-modified": DATE });
    res.end();
  });
  server.keepAliveTimeout = 30_000;
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

const tmp = await mkdtemp(path.join(os.tmpdir(), "bench-mirrors-"));
const servers = [];
let mf;
try {
  const config = await readWorkerConfig(ROOT, "wrangler.base.toml");
  const bundlePath = await buildWorkerBundle({ root: ROOT, outdir: path.join(tmp, "bundle"), config: "wrangler.base.toml" });
  for (let i = 0; i < MIRRORS; i++) servers.push(await startMirror());
  const mirrors = servers.map((s, i) => ({ id: `m${i}`, url: `http://127.0.0.1:${s.address().port}`, originEtags: false, prefixes: [] }));
  mf = new Miniflare(benchMiniflareOptions([{
    name: "base",
    modules: true,
    scriptPath: bundlePath,
    modulesRoot: path.dirname(bundlePath),
    compatibilityDate: config.compatibilityDate,
    compatibilityFlags: config.compatibilityFlags,
    bindings: { ORIGIN_URL: "http://127.0.0.1:9" },
    r2Buckets: config.r2Buckets,
    durableObjects: Object.fromEntries(config.durableObjects.map((d) => [d.binding, { className: d.className, useSQLite: d.sqlite }])),
  }], path.join(tmp, "do")));
  const ns = await mf.getDurableObjectNamespace("MIRROR_INVENTORY");
  // A fresh stub per phase: a long-lived proxy stub failed after some thousands of calls here.
  const stub = () => ns.get(ns.idFromName("inventory"));
  let inventory = stub();
  const origin = { size: SIZE, lastModified: DATE, etag: null, sha256: null };
  const pathOf = (i) => `/pub/${String(i).padStart(6, "0")}.bin`;

  let t0 = performance.now();
  for (let i = 0; i < FILES; i++) await inventory.check({ path: pathOf(i), origin, mirrors: [], ...checks });
  log(`${FILES} files known in ${(ms(t0) / 1000).toFixed(1)} s`);

  inventory = stub();
  const runs = [];
  for (let run = 0; ; run++) {
    t0 = performance.now();
    const reports = await inventory.scan({ mirrors, scans, checks });
    runs.push({ ms: ms(t0), checked: reports.reduce((n, r) => n + r.checked, 0) });
    if (reports.every((r) => r.outcome === "pass ended") || run > FILES / BATCH + 2) break;
  }
  const lookups = [];
  for (let i = 0; i < 200; i++) {
    t0 = performance.now();
    await inventory.check({ path: pathOf((i * 37) % FILES), origin, mirrors, ...checks });
    lookups.push(ms(t0));
  }
  await mf.dispose();
  mf = undefined;

  const dir = path.join(tmp, "do");
  const sqlite = [];
  let bytes = 0;
  for (const d of await readdir(dir, { recursive: true })) {
    const file = path.join(dir, String(d));
    const st = await stat(file);
    if (st.isFile() && /\.sqlite(-wal)?$/.test(file)) bytes += st.size;
    if (String(d).endsWith(".sqlite")) sqlite.push(file);
  }
  const rows = {};
  for (const file of sqlite) {
    const db = new DatabaseSync(file, { readOnly: true });
    for (const t of ["files", "verdicts", "scan_copies", "mirror_state"]) {
      try {
        rows[t] = (rows[t] ?? 0) + db.prepare(`SELECT COUNT(*) AS n FROM ${t}`).get().n;
      } catch {}
    }
    db.close();
  }
  const sorted = lookups.sort((a, b) => a - b);
  const perRun = runs.map((r) => r.ms);
  console.log(`mirror inventory, ${MIRRORS} mirrors x ${FILES} files, batch ${BATCH} per mirror per run (HEAD scans, concurrency 4)`);
  console.log(`rows: ${Object.entries(rows).map(([t, n]) => `${t} ${n}`).join(", ")}`);
  console.log(`SQLite files: ${sqlite.length}, ${(bytes / 1024 / 1024).toFixed(1)} MiB (${(bytes / Math.max(1, (rows.files ?? 0) + (rows.verdicts ?? 0))).toFixed(0)} B per files+verdicts row)`);
  console.log(`scan runs to a full pass: ${runs.length}; per run (${MIRRORS} x ${BATCH} HEADs): median ${perRun.sort((a, b) => a - b)[Math.floor(perRun.length / 2)].toFixed(0)} ms, max ${perRun.at(-1).toFixed(0)} ms; copies judged ${runs.reduce((n, r) => n + r.checked, 0)}`);
  console.log(`verdict lookup (check() with all ${MIRRORS} verdicts known, RPC from Node): median ${sorted[100].toFixed(2)} ms, p99 ${sorted[198].toFixed(2)} ms`);
} finally {
  if (mf) await mf.dispose().catch(() => {});
  for (const s of servers) s.close();
  await rm(tmp, { recursive: true, force: true });
}
