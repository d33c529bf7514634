#!/usr/bin/env node
// Oracle check: serves the fixtures of cases.mjs with a real nginx
// (start-nginx.mjs) and compares every case's status, Content-Range,
// Content-Length, Content-Type, Accept-Ranges and body with a tiny reference
// responder built only from our pure modules in src/http (decideRange,
// multipartPlan, evaluatePreconditions, ifRangeAllows).
//
//   node scripts/nginx-oracle/check-range.mjs [--verbose] [--filter TEXT] [--fuzz N] [--seed S]
//
// --fuzz N adds N random Range headers (seeded, default 500; 0 disables) per
// fixture of 0, 1 and 1000 bytes, GET only, on top of the fixed CASES.
// TRACE=1 prints each case before it is sent.
//
// Exit code 0 when everything agrees (cases marked `differs` must differ, in
// the way documented on them), 1 otherwise. Needs nginx (apt-get install -y
// nginx-light) and Node >= 22. Bodies of 412/416 (nginx's HTML error pages)
// are not compared, nor is anything of a 304 but its status.
//
// Deliberate differences are not failures; they are the `differs` cases in
// cases.mjs (RFC 9110 §13 precedence where nginx deviates, see
// src/http/conditional.ts). The multipart boundary is nginx's own value,
// passed to multipartPlan, so bodies must match byte for byte.

import { build } from "esbuild";
import http from "node:http";
import { mkdtemp, mkdir, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { CASES, FILES, MTIME_MS, fileBytes, materializeHeaders } from "./cases.mjs";
import { startNginx } from "./start-nginx.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const args = process.argv.slice(2);
const verbose = args.includes("--verbose");
const filterAt = args.indexOf("--filter");
const filter = filterAt >= 0 ? args[filterAt + 1] ?? "" : "";
const numberArg = (name, dflt) => {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args[at + 1]) : dflt;
};
const fuzzCount = numberArg("--fuzz", 500);
const seed = numberArg("--seed", 20240310);

/** mulberry32: small seeded PRNG so fuzz runs are reproducible. */
function prng(a) {
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random Range values: mostly well-formed specs around the fixture sizes, some noise. */
function fuzzRanges(count, rand) {
  const pick = (xs) => xs[Math.floor(rand() * xs.length)];
  const num = () => String(pick([0, 1, 2, 5, 499, 500, 998, 999, 1000, 1001, 5000, Math.floor(rand() * 1200)]));
  const sp = () => (rand() < 0.15 ? " " : "");
  const spec = () => {
    const r = rand();
    if (r < 0.4) return sp() + num() + sp() + "-" + sp() + num() + sp();
    if (r < 0.6) return sp() + num() + sp() + "-" + sp();
    if (r < 0.8) return sp() + "-" + num() + sp();
    return Array.from({ length: 1 + Math.floor(rand() * 4) }, () => pick([..."0123456789-, ,x"])).join("");
  };
  const out = [];
  for (let i = 0; i < count; i++) {
    const n = 1 + Math.floor(rand() * 4);
    const unit = rand() < 0.95 ? "bytes=" : pick(["Bytes=", "bytes =", "byte=", "bytes"]);
    out.push(unit + Array.from({ length: n }, spec).join(","));
  }
  return out;
}

/** Bundles the TypeScript modules (extensionless imports) into one ESM file and imports it. */
async function loadModules(work) {
  const out = join(work, "http-modules.mjs");
  await build({
    stdin: {
      contents: [
        'export * from "./src/http/range";',
        'export * from "./src/http/multipart";',
        'export * from "./src/http/conditional";',
      ].join("\n"),
      resolveDir: ROOT,
      loader: "ts",
    },
    bundle: true,
    format: "esm",
    platform: "neutral",
    outfile: out,
    logLevel: "error",
  });
  return import(pathToFileURL(out).href);
}

/** nginx's static-file ETag: "hex(mtime seconds)-hex(size)". */
function nginxEtag(size) {
  return `"${Math.floor(MTIME_MS / 1000).toString(16)}-${size.toString(16)}"`;
}

function concat(chunks) {
  const total = chunks.reduce((n, c) => n + c.byteLength, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/**
 * What our node should answer, composed from the pure modules only.
 * `boundary` is the one nginx chose (so multipart bodies are comparable).
 */
function reference(m, method, headers, file, boundary) {
  const h = new Headers(headers);
  const v = { etag: nginxEtag(file.size), lastModified: new Date(MTIME_MS).toUTCString() };
  const pre = m.evaluatePreconditions(method, h, v);
  if (pre === "not-modified") return { status: 304 };
  if (pre === "precondition-failed") return { status: 412 };

  const bytes = fileBytes(file.size);
  const range = h.get("Range");
  const decision =
    range !== null && m.ifRangeAllows(h, v)
      ? m.decideRange(range, file.size, { maxRanges: file.maxRanges })
      : { kind: "full", reason: "no Range or If-Range failed" };
  if (decision.kind === "unsatisfiable") {
    return { status: 416, contentRange: m.unsatisfiedRange(file.size) };
  }
  if (decision.kind === "full") {
    return {
      status: 200, contentType: file.type, contentLength: file.size,
      acceptRanges: "bytes", body: bytes,
    };
  }
  const [only, ...more] = decision.ranges;
  if (more.length === 0) {
    return {
      status: 206, contentType: file.type, contentLength: only.end - only.start + 1,
      contentRange: m.contentRange(only, file.size),
      body: bytes.subarray(only.start, only.end + 1),
    };
  }
  const plan = m.multipartPlan(decision.ranges, file.size, file.type, boundary ?? "BOUNDARY");
  const chunks = [];
  for (const part of plan.parts) {
    chunks.push(part.head, bytes.subarray(part.range.start, part.range.end + 1));
  }
  chunks.push(plan.tail);
  return { status: 206, contentType: plan.contentType, contentLength: plan.contentLength, body: concat(chunks) };
}

function request(agent, port, method, path, headers) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, method, path, headers, agent }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: new Uint8Array(Buffer.concat(chunks)) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

/** Differences between nginx's response and the reference, as strings. */
function compare(method, got, want) {
  const diffs = [];
  const field = (name, a, b) => {
    if ((a ?? null) !== (b ?? null)) diffs.push(`${name}: nginx ${JSON.stringify(a ?? null)} ours ${JSON.stringify(b ?? null)}`);
  };
  field("status", got.status, want.status);
  if (diffs.length) return diffs;
  if (want.status === 416) field("content-range", got.headers["content-range"], want.contentRange);
  if (want.status !== 200 && want.status !== 206) return diffs;
  field("content-range", got.headers["content-range"], want.contentRange);
  field("content-type", got.headers["content-type"], want.contentType);
  field("content-length", got.headers["content-length"], String(want.contentLength));
  field("accept-ranges", got.headers["accept-ranges"], want.acceptRanges);
  if (method === "GET") {
    const same = got.body.byteLength === want.body.byteLength && got.body.every((b, i) => b === want.body[i]);
    if (!same) {
      const show = (u) => JSON.stringify(Buffer.from(u.subarray(0, 300)).toString("latin1"));
      diffs.push(`body differs (${got.body.byteLength} vs ${want.body.byteLength} bytes): nginx ${show(got.body)} ours ${show(want.body)}`);
    }
  }
  return diffs;
}

async function main() {
  const work = await mkdtemp(join(tmpdir(), "range-oracle-"));
  let nginx;
  // No keep-alive: nginx 1.22 closes the connection after a 412 from its not_modified
  // filter while still sending "Connection: keep-alive", so a reused socket would hang up.
  const agent = new http.Agent({ keepAlive: false });
  try {
    const m = await loadModules(work);
    const root = join(work, "www");
    for (const f of FILES) {
      const p = join(root, f.name);
      await mkdir(dirname(p), { recursive: true });
      await writeFile(p, fileBytes(f.size));
      await utimes(p, MTIME_MS / 1000, MTIME_MS / 1000);
    }
    nginx = await startNginx({ root });
    const files = new Map(FILES.map((f) => [f.name, f]));
    let agreed = 0, expectedDiffs = 0;
    const failures = [];
    const rand = prng(seed);
    const fuzz = [];
    for (const name of ["empty.txt", "one.txt", "k.bin"]) {
      for (const r of fuzzRanges(fuzzCount, rand)) {
        fuzz.push({ id: `fuzz GET ${name} range=${JSON.stringify(r)}`, method: "GET", file: name, headers: { Range: r } });
      }
    }
    for (const c of [...CASES, ...fuzz]) {
      if (filter && !c.id.includes(filter)) continue;
      const file = files.get(c.file);
      const headers = materializeHeaders(c.headers, { etag: nginxEtag(file.size), lastModifiedMs: MTIME_MS });
      if (process.env.TRACE) console.log("->", c.id);
      const got = await request(agent, nginx.port, c.method, "/" + c.file, headers);
      const boundary = /boundary=(\S+)/.exec(got.headers["content-type"] ?? "")?.[1];
      const want = reference(m, c.method, headers, file, boundary);
      const diffs = compare(c.method, got, want);
      if (c.differs) {
        if (diffs.length === 0) failures.push(`${c.id}: expected to differ (${c.differs}) but agreed`);
        else {
          expectedDiffs++;
          if (verbose) console.log(`known difference  ${c.id}: ${diffs.join("; ")}  [${c.differs}]`);
        }
      } else if (diffs.length) {
        failures.push(`${c.id} ${JSON.stringify(headers)}: ${diffs.join("; ")}`);
      } else {
        agreed++;
        if (verbose) console.log(`ok  ${c.id} → ${got.status}`);
      }
    }
    for (const f of failures) console.log(`MISMATCH  ${f}`);
    console.log(`${agreed + expectedDiffs} passed, ${failures.length} failed (${expectedDiffs} documented differences)`);
    process.exitCode = failures.length ? 1 : 0;
  } finally {
    agent.destroy();
    await nginx?.close();
    await rm(work, { recursive: true, force: true });
  }
}

await main();
