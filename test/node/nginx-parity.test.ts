// End-to-end parity: the real node (its stored copy) against real nginx serving the same
// files, for every request of scripts/nginx-oracle/cases.mjs. "Statuses and bytes must
// match what nginx would send for the same file and headers."
//
// global-setup.mjs starts nginx (scripts/nginx-oracle/start-nginx.mjs) on the test
// origin's root directory; TEST_NGINX_URL is "" when no nginx binary is installed, and
// then this file is reported as skipped.
//
// Compared per case: status, Content-Range, Content-Length and body (multipart boundary
// normalised), Content-Type, and ETag / Last-Modified of 200/206/304. Not compared: the
// bodies (and so Content-Length) of 412/416, nginx's HTML error pages.
//
// Where the test setup cannot be identical to the oracle's, the mapping is explicit:
// - *.txt fixtures live under /charset/, where nginx says "text/plain; charset=utf-8"
//   like the test origin (elsewhere nginx says "text/plain").
// - k.dat: nginx has no type for .dat (and omits Content-Type in multipart parts); the
//   test origin always sends one (application/octet-stream), which the node must carry,
//   so the expected answer is nginx's with that type (FIXTURES.originType).
// - max1/k.bin: the node's cap (MAX_RANGES, default 16) applies after coalescing, not to
//   the specs as read like nginx's max_ranges, so its reference is nginx serving the same
//   bytes without max_ranges (/k.bin).
// - Coalescing (src/http/range-coalesce.ts, issue #11 M3): the node merges overlapping
//   ranges and ranges less than 80 bytes apart (RFC 9110 §15.3.7.2) where nginx sends
//   each as its own part, and answers 200 above MAX_RANGES parts. For those cases the
//   expected answer is nginx's for the Range header of the coalesced ranges (or for no
//   Range above the cap): same bytes, fewer parts. decideRange itself is still nginx's.
// - Cases marked `differs`: the node follows RFC 9110 §13 where nginx does not; the
//   expected answer is nginx's for the same request without the header the RFC says to
//   ignore, and nginx must still answer the original request differently.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error -- plain ESM data shared with check-range.mjs, typed by `Oracle` below.
import * as untypedOracle from "../../scripts/nginx-oracle/cases.mjs";
import { decideRange, formatRange } from "../../src/http/range";
import { shapeRanges } from "../../src/http/range-coalesce";
import { DEFAULT_MAX_RANGES } from "../../src/config/node-config";
import { putBody } from "../support/origin";
import { eventually, nodeFetch } from "../support/node";

interface OracleFile { name: string; size: number; type: string | null; maxRanges?: number }
interface OracleCase { id: string; method: "GET" | "HEAD"; file: string; headers: Record<string, string>; differs?: string }
interface Oracle {
  MTIME_MS: number;
  FILES: OracleFile[];
  CASES: OracleCase[];
  fileBytes(size: number): Uint8Array;
  materializeHeaders(headers: Record<string, string>, v: { etag: string; lastModifiedMs: number }): Record<string, string>;
}
const oracle = untypedOracle as Oracle;

const nginxUrl = (env as unknown as { TEST_NGINX_URL?: string }).TEST_NGINX_URL ?? "";
const skipReason = "no nginx binary (apt-get install -y nginx-light, or set NGINX_BIN); scripts/test installs it when it can";
if (!nginxUrl) console.warn(`nginx-parity.test.ts skipped: ${skipReason}`);

/** Where each oracle fixture is served: by the node (and origin) and by nginx. */
const FIXTURES: Record<string, { path: string; nginxPath: string; originType: string }> = {
  "empty.txt": { path: "/charset/empty.txt", nginxPath: "/charset/empty.txt", originType: "text/plain; charset=utf-8" },
  "one.txt": { path: "/charset/one.txt", nginxPath: "/charset/one.txt", originType: "text/plain; charset=utf-8" },
  "k.bin": { path: "/k.bin", nginxPath: "/k.bin", originType: "application/octet-stream" },
  "k.dat": { path: "/k.dat", nginxPath: "/k.dat", originType: "application/octet-stream" },
  "charset/k.txt": { path: "/charset/k.txt", nginxPath: "/charset/k.txt", originType: "text/plain; charset=utf-8" },
  "max1/k.bin": { path: "/max1/k.bin", nginxPath: "/k.bin", originType: "application/octet-stream" },
};
/** Fixtures whose nginx type differs from the origin's: only k.dat (see the header). */
const RETYPED = ["k.dat"];

interface Answer {
  status: number;
  headers: Headers;
  body: Uint8Array;
}

async function read(res: Response): Promise<Answer> {
  return { status: res.status, headers: res.headers, body: new Uint8Array(await res.arrayBuffer()) };
}

/** nginx closes the connection after a 412 it produces; a reused socket may fail once. */
async function nginxFetch(path: string, method: string, headers: Record<string, string>): Promise<Answer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await read(await fetch(nginxUrl + path, { method, headers }));
    } catch (e) {
      if (attempt >= 2) throw new Error(`nginx ${method} ${path}: ${e instanceof Error ? e.message : e}`);
    }
  }
}

let ipCounter = 0;
/** Rotating client addresses: the node's guard (2 downloads per client + URL) never bites. */
function nextIp(): string {
  ipCounter = (ipCounter + 1) % 64;
  return `198.51.100.${ipCounter + 1}`;
}

const latin1 = (b: Uint8Array): string => {
  let s = "";
  for (let i = 0; i < b.length; i += 8192) s += String.fromCharCode(...b.subarray(i, i + 8192));
  return s;
};
const show = (s: string | null): string => (s === null ? "null" : JSON.stringify(s.length > 120 ? s.slice(0, 120) + "…" : s));

function boundaryOf(a: Answer): string | undefined {
  return /^multipart\/byteranges; boundary=(\S+)$/.exec(a.headers.get("content-type") ?? "")?.[1];
}

/** Content-Type with the multipart boundary replaced by "BOUNDARY". */
function normType(a: Answer): string | null {
  const b = boundaryOf(a);
  const t = a.headers.get("content-type");
  return b && t ? t.replace(b, "BOUNDARY") : t;
}

/** Body as latin1 text with the multipart boundary replaced by "BOUNDARY". */
function normBody(a: Answer): string {
  const b = boundaryOf(a);
  const s = latin1(a.body);
  return b ? s.split(`--${b}`).join("--BOUNDARY") : s;
}

interface Expected {
  status: number;
  contentRange: string | null;
  contentLength: string | null;
  contentType: string | null;
  etag: string | null;
  lastModified: string | null;
  /** Normalised body; undefined = not compared (412/416 error pages). */
  body?: string;
}

/** What the node must answer, from nginx's answer (plus the documented k.dat retyping). */
async function expectedFrom(ng: Answer, fx: (typeof FIXTURES)[string], method: string, headers: Record<string, string>, retype: boolean): Promise<Expected> {
  const errorPage = ng.status === 412 || ng.status === 416;
  const exp: Expected = {
    status: ng.status,
    contentRange: ng.headers.get("content-range"),
    contentLength: errorPage ? null : ng.headers.get("content-length"),
    contentType: errorPage || ng.status === 304 ? null : normType(ng),
    etag: errorPage ? null : ng.headers.get("etag"),
    lastModified: errorPage ? null : ng.headers.get("last-modified"),
    body: errorPage ? undefined : normBody(ng),
  };
  if (!retype || errorPage || ng.status === 304) return exp;
  if (boundaryOf(ng)) {
    // nginx writes no Content-Type line in the parts of an untyped file; ours has one.
    const full = method === "GET" ? ng : await nginxFetch(fx.nginxPath, "GET", headers);
    const typeLine = `Content-Type: ${fx.originType}\r\n`;
    const retyped = normBody(full).replace(/--BOUNDARY\r\n(?:Content-Type: [^\r]*\r\n)?Content-Range: /g, `--BOUNDARY\r\n${typeLine}Content-Range: `);
    exp.contentLength = String(Number(exp.contentLength) + retyped.length - normBody(full).length);
    if (method === "GET") exp.body = retyped;
  } else {
    exp.contentType = fx.originType;
  }
  return exp;
}

/** The documented differences: the request nginx must answer the way we answer the original. */
function withoutIgnoredHeader(headers: Record<string, string>): Record<string, string> {
  const out = { ...headers };
  if ("If-None-Match" in out && "If-Modified-Since" in out) delete out["If-Modified-Since"]; // §13.1.3
  else if ("If-Unmodified-Since" in out) delete out["If-Unmodified-Since"]; // §13.1.4: with If-Match, or an invalid date
  return out;
}

/**
 * The request nginx must answer the way the node answers `headers` once it has coalesced
 * and capped the ranges (see the header); null when coalescing changes nothing.
 */
function coalescedReference(headers: Record<string, string>, size: number): Record<string, string> | null {
  const name = Object.keys(headers).find((h) => h.toLowerCase() === "range");
  if (name === undefined) return null;
  const decided = decideRange(headers[name]!, size);
  if (decided.kind !== "partial") return null;
  const shaped = shapeRanges(decided.ranges, DEFAULT_MAX_RANGES);
  const out = { ...headers };
  if (shaped.kind === "full") delete out[name];
  else if (JSON.stringify(shaped.ranges) !== JSON.stringify(decided.ranges)) out[name] = formatRange(shaped.ranges);
  else return null;
  return out;
}

function compare(exp: Expected, got: Answer, method: string): string[] {
  const diffs: string[] = [];
  const field = (name: string, want: string | number | null, have: string | number | null) => {
    if (want !== have) diffs.push(`${name}: nginx ${show(want === null ? null : String(want))} node ${show(have === null ? null : String(have))}`);
  };
  field("status", exp.status, got.status);
  if (diffs.length) return diffs;
  field("content-range", exp.contentRange, got.headers.get("content-range"));
  if (exp.status !== 412 && exp.status !== 416) {
    field("content-length", exp.contentLength, got.headers.get("content-length"));
    field("content-type", exp.contentType, exp.status === 304 ? got.headers.get("content-type") : normType(got));
    field("etag", exp.etag, got.headers.get("etag"));
    field("last-modified", exp.lastModified, got.headers.get("last-modified"));
  }
  if (method === "HEAD" && got.body.length) diffs.push(`HEAD answered with ${got.body.length} body bytes`);
  if (exp.body !== undefined && method === "GET") {
    const have = normBody(got);
    if (have !== exp.body) {
      let at = 0;
      while (at < have.length && have[at] === exp.body[at]) at++;
      diffs.push(`body differs at byte ${at} (${exp.body.length} vs ${have.length} bytes): nginx ${show(exp.body.slice(at, at + 60))} node ${show(have.slice(at, at + 60))}`);
    }
  }
  const cs = got.headers.get("cache-status") ?? "";
  if (!/; (hit|fwd=stale)(;|$)/.test(cs)) diffs.push(`not served from the node's copy: Cache-Status ${show(cs)}`);
  return diffs;
}

const validators = new Map<string, { etag: string; lastModifiedMs: number }>();

describe.skipIf(!nginxUrl)(`node vs nginx: Range and conditional answers${nginxUrl ? "" : ` (skipped: ${skipReason})`}`, () => {
  beforeAll(async () => {
    const probe = await fetch(nginxUrl + "/").then((r) => r.arrayBuffer().then(() => r.status), (e: unknown) => String(e));
    if (typeof probe !== "number") throw new Error(`nginx at ${nginxUrl} unreachable (${probe}); see the global-setup output`);
    const mtime = oracle.MTIME_MS / 1000;
    for (const f of oracle.FILES) {
      const fx = FIXTURES[f.name];
      if (!fx) throw new Error(`cases.mjs fixture ${f.name} has no FIXTURES entry here`);
      const info = await putBody(fx.path, oracle.fileBytes(f.size), mtime);
      validators.set(f.name, { etag: info.etag, lastModifiedMs: Date.parse(info.lastModified) });
      // Warm the node's copy; later answers must come from it.
      await eventually(async () => {
        const r = await nodeFetch(fx.path, { ip: nextIp() });
        await r.arrayBuffer();
        return r.status === 200 && !/fwd=miss/.test(r.headers.get("cache-status") ?? "");
      });
    }
  });

  it("origin, nginx and node agree on each fixture's validators and Content-Type", async () => {
    const problems: string[] = [];
    for (const f of oracle.FILES) {
      const fx = FIXTURES[f.name]!;
      const v = validators.get(f.name)!;
      const ng = await nginxFetch(fx.nginxPath, "HEAD", {});
      const node = await read(await nodeFetch(fx.path, { method: "HEAD", ip: nextIp() }));
      const lm = new Date(v.lastModifiedMs).toUTCString();
      const check = (what: string, want: string | null, have: string | null) => {
        if (want !== have) problems.push(`${f.name} ${what}: expected ${show(want)} got ${show(have)}`);
      };
      check("origin ETag vs nginx", ng.headers.get("etag"), v.etag);
      check("origin Last-Modified vs nginx", ng.headers.get("last-modified"), lm);
      check("node ETag", v.etag, node.headers.get("etag"));
      check("node Last-Modified", lm, node.headers.get("last-modified"));
      check("node Content-Type", fx.originType, node.headers.get("content-type"));
      check("nginx Content-Type", RETYPED.includes(f.name) ? null : fx.originType, ng.headers.get("content-type"));
    }
    expect(problems).toEqual([]);
  });

  const groups = new Map<string, OracleCase[]>();
  for (const c of oracle.CASES) {
    const k = `${c.method} ${c.file}`;
    groups.set(k, [...(groups.get(k) ?? []), c]);
  }
  for (const [group, cases] of groups) {
    it(`${group}: ${cases.length} cases answer like nginx`, async () => {
      const mismatches: string[] = [];
      let documented = 0;
      let coalesced = 0;
      for (const c of cases) {
        const fx = FIXTURES[c.file]!;
        const headers = oracle.materializeHeaders(c.headers, validators.get(c.file)!);
        let reference = headers;
        if (c.differs) {
          reference = withoutIgnoredHeader(headers);
          const original = await nginxFetch(fx.nginxPath, c.method, headers);
          const rfc = await nginxFetch(fx.nginxPath, c.method, reference);
          if (original.status === rfc.status) {
            mismatches.push(`${c.id}: documented difference not observed, nginx answers ${original.status} either way [${c.differs}]`);
          }
          documented++;
        }
        const merged = coalescedReference(reference, oracle.FILES.find((f) => f.name === c.file)!.size);
        if (merged) {
          reference = merged;
          coalesced++;
        }
        const ng = await nginxFetch(fx.nginxPath, c.method, reference);
        const exp = await expectedFrom(ng, fx, c.method, reference, RETYPED.includes(c.file));
        let diffs: string[];
        try {
          diffs = compare(exp, await read(await nodeFetch(fx.path, { method: c.method, headers, ip: nextIp() })), c.method);
        } catch (e) {
          diffs = [`node request failed: ${e instanceof Error ? e.message : e}`];
        }
        if (diffs.length) mismatches.push(`${c.id} ${JSON.stringify(headers)}${c.differs ? " [documented difference]" : ""}${merged ? " [coalesced]" : ""}: ${diffs.join("; ")}`);
      }
      if (mismatches.length) {
        expect.fail(`${mismatches.length} of ${cases.length} cases (${documented} documented differences, ${coalesced} coalesced) differ from nginx:\n  ${mismatches.join("\n  ")}`);
      }
    });
  }
});
