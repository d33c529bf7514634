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

const pathOf = (i) => `/pub/${String(i).padStart(6, "0")}.bin`;

/**
 * The bench's driver worker: each POST is one batch of calls made from inside workerd, to
 * each mirror's copies object ("copies:<id>", src/mirrors/inventory.ts copiesOf), as the
 * base's Cron (run-scans.ts) and redirect path (copies.ts) make them.
 */
const DRIVER = `
const pathOf = ${pathOf.toString()};
export default {
  async fetch(request, env) {
    const op = new URL(request.url).pathname.slice(1);
    const b = await request.json();
    const copies = (id) => env.MIRROR_INVENTORY.get(env.MIRROR_INVENTORY.idFromName("copies:" + id));
    const each = (f) => Promise.all(b.mirrors.map((m) => f(copies(m.id), m)));
    if (op === "known") {
      for (let i = b.from; i < b.to; i++) await each((c) => c.check({ path: pathOf(i), origin: b.origin, mirrors: [], ...b.checks }));
      return Response.json({ known: b.to - b.from });
    }
    if (op === "scan") return Response.json((await each((c, m) => c.scan({ mirrors: [m], scans: b.scans, checks: b.checks }))).flat());
    if (op === "lookup") return Response.json(Object.assign({}, ...(await each((c, m) => c.check({ path: b.path, origin: b.origin, mirrors: [m], ...b.checks })))));
    return new Response("unknown op", { status: 404 });
  },
};`;

const tmp = await mkdtemp(path.join(os.tmpdir(), "bench-mirrors-"));
const servers = [];
let mf;
try {
  const config = await readWorkerConfig(ROOT, "wrangler.base.toml");
  const bundlePath = await buildWorkerBundle({ root: ROOT, outdir: path.join(tmp, "bundle"), config: "wrangler.base.toml" });
  for (let i = 0; i < MIRRORS; i++) servers.push(await startMirror());
  const mirrors = servers.map((s, i) => ({ id: `m${i}`, url: `http://127.0.0.1:${s.address().port}`, originEtags: false, prefixes: [] }));
  mf = new Miniflare(benchMiniflareOptions([
    // The driver calls the inventory from inside workerd, as the base's Cron and redirect
    // path do: Node-side RPC stubs through Miniflare's proxy failed after a few thousand calls.
    { name: "driver", modules: true, script: DRIVER, compatibilityDate: config.compatibilityDate, durableObjects: { MIRROR_INVENTORY: { className: "MirrorInventory", scriptName: "base" } } },
    {
      name: "base",
      modules: true,
      scriptPath: bundlePath,
      modulesRoot: path.dirname(bundlePath),
      compatibilityDate: config.compatibilityDate,
      compatibilityFlags: config.compatibilityFlags,
      bindings: { ORIGIN_URL: "http://127.0.0.1:9" },
      r2Buckets: config.r2Buckets,
      durableObjects: Object.fromEntries(config.durableObjects.map((d) => [d.binding, { className: d.className, useSQLite: d.sqlite }])),
    },
  ], path.join(tmp, "do")));
  const call = async (op, body) => {
    const res = await mf.dispatchFetch(`http://driver/${op}`, { method: "POST", body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`${op}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  const origin = { size: SIZE, lastModified: DATE, etag: null, sha256: null };

  let t0 = performance.now();
  for (let from = 0; from < FILES; from += 1000) await call("known", { from, to: Math.min(FILES, from + 1000), origin, checks, mirrors });
  log(`${FILES} files known to each of ${MIRRORS} copies objects in ${(ms(t0) / 1000).toFixed(1)} s`);

  const runs = [];
  for (let run = 0; ; run++) {
    t0 = performance.now();
    const reports = await call("scan", { mirrors, scans, checks });
    runs.push({ ms: ms(t0), checked: reports.reduce((n, r) => n + r.checked, 0) });
    if (reports.every((r) => r.outcome === "pass ended") || run > FILES / BATCH + 2) break;
  }
  const lookups = [];
  for (let i = 0; i < 200; i++) {
    t0 = performance.now();
    await call("lookup", { path: pathOf((i * 37) % FILES), origin, mirrors, checks });
    lookups.push(ms(t0));
  }
  await mf.dispose();
  mf = undefined;

  const dir = path.join(tmp, "do");
  const sqlite = [];
  let bytes = 0;
  let largest = 0;
  for (const d of await readdir(dir, { recursive: true })) {
    const file = path.join(dir, String(d));
    const st = await stat(file);
    if (st.isFile() && /\.sqlite(-wal)?$/.test(file)) bytes += st.size;
    // One object's database: its file and its write-ahead log, not yet checkpointed.
    if (st.isFile() && /\.sqlite$/.test(file)) largest = Math.max(largest, st.size + (await stat(`${file}-wal`).catch(() => ({ size: 0 }))).size);
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
  console.log(`mirror inventory (one copies object per mirror), ${MIRRORS} mirrors x ${FILES} files, batch ${BATCH} per mirror per run (HEAD scans, concurrency 4)`);
  console.log(`rows: ${Object.entries(rows).map(([t, n]) => `${t} ${n}`).join(", ")}`);
  console.log(`SQLite files: ${sqlite.length}, ${(bytes / 1024 / 1024).toFixed(1)} MiB (${(bytes / Math.max(1, (rows.files ?? 0) + (rows.verdicts ?? 0))).toFixed(0)} B per files+verdicts row), largest object with its WAL ${(largest / 1024 / 1024).toFixed(1)} MiB`);
  console.log(`scan runs to a full pass: ${runs.length}; per run (${MIRRORS} x ${BATCH} HEADs): median ${perRun.sort((a, b) => a - b)[Math.floor(perRun.length / 2)].toFixed(0)} ms, max ${perRun.at(-1).toFixed(0)} ms; copies judged ${runs.reduce((n, r) => n + r.checked, 0)}`);
  console.log(`verdict lookup (check() with all ${MIRRORS} verdicts known, one request to a driver worker that calls the object): median ${sorted[100].toFixed(2)} ms, p99 ${sorted[198].toFixed(2)} ms`);
} finally {
  if (mf) await mf.dispose().catch(() => {});
  for (const s of servers) s.close();
  await rm(tmp, { recursive: true, force: true });
}
