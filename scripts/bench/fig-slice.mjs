/**
 * Figure 7 (issue #12 "Benchmarks"): a cold Range request for the last MiB of a 2 GiB
 * file is a slice fill: the node asks the origin only for the chunks the range covers
 * (Range + If-Range, RFC 9110 §14.2, §13.1.5) and fills nothing else in the background.
 * Goal: origin body bytes <= 2 chunks, counted by the origin itself over the answer and
 * a quiet period after it (before chunked slice fills, a cold last-MiB range of a 1 GiB
 * file pulled 375 MiB within 10 s). The 2 GiB file is a real file the origin generates
 * on disk (pattern-file.mjs); the answer's bytes are checked against the pattern.
 */
import { createHash } from "node:crypto";
import { patternBytes } from "../origin/pattern-file.mjs";
import { httpGet } from "./clients.mjs";
import { MB, MiB, originBytes, sleep } from "./cold-util.mjs";

const GiB = 1024 ** 3;

export async function figureSlice(ctx) {
  const { stack, origin, quick, note, chunkSize, log } = ctx;
  await stack.restart();
  const size = 2 * GiB;
  const path = "/slice-2g.bin";
  log(`7: generating a ${size / GiB} GiB origin file...`);
  await origin.control.createFile(path, size);
  const want = MiB;
  const expected = createHash("sha256").update(patternBytes(path, size - want, want)).digest("hex");
  // Quiet time after the answer in which a background fill of the rest would show up.
  const watchMs = quick ? 5000 : 10_000;

  await origin.control.reset();
  const r = await httpGet(stack.url("node") + path, { "cf-connecting-ip": "10.7.0.1", range: `bytes=-${want}` }, { hash: true });
  if (r.status !== 206 || r.sha256 !== expected) throw new Error(`range answer: ${r.status}, ${r.bytes} bytes, ${r.sha256 === expected ? "right" : "wrong"} bytes`);
  const atAnswer = await originBytes(origin, path);
  await sleep(watchMs);
  const after = await originBytes(origin, path);
  const chunks = after.bodyBytes / chunkSize;
  note(`7: GET Range: bytes=-${want} of a cold ${size / GiB} GiB file through "node" (CHUNK_SIZE ${chunkSize / MiB} MiB): 206 in ${(r.totalMs / 1000).toFixed(2)} s (first byte ${r.ttfbMs.toFixed(0)} ms), bytes checked against the origin's pattern; origin body bytes ${(atAnswer.bodyBytes / MB).toFixed(1)} MB at the answer and ${(after.bodyBytes / MB).toFixed(1)} MB ${watchMs / 1000} s later (${after.gets} GET(s), ${after.rangeGets} ranged, ${after.heads} HEAD(s)).`);
  return [{
    id: "7", what: `cold last-MiB range of a ${size / GiB} GiB file: origin body bytes (x chunk size)`,
    node: after.bodyBytes / MB, baseline: chunkSize / MB, unit: "MB", ratio: chunks,
    goal: "<= 2 chunks", pass: chunks <= 2,
  }];
}
