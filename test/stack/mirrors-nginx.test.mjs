// Issue #14 with real Debian nginx servers as mirrors, through the local stack as a user
// starts it (scripts/dev-stack.mjs), over real sockets: one mirror current, one outdated
// (other size, older mtime), one partial (lacks a file), one stopped mid-run. Clients are
// sent only to copies that are current, the headers and the .meta4 never name the others,
// and the Cron's scan disables the lagging mirror for every file.
import { mkdtemp, mkdir, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../scripts/lib/free-port.mjs";
import { findNginx, startNginx } from "../../scripts/nginx-oracle/start-nginx.mjs";
import { startStack } from "./stack-process.mjs";

const NGINX = findNginx();
const SIZE = 300_000;
const MTIME = 1_700_000_000;
const FILES = ["/pub/a.bin", "/pub/b.bin", "/pub/c.bin"];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const ADMIN_TOKEN = "mirrors-admin-token-0123456789";

/** Every URL an answer names as a place to get the file: Location, Link rel=duplicate, X-Mirrored-By. */
function named(res) {
  const link = [...(res.headers.get("link") ?? "").matchAll(/<([^>]+)>; rel=duplicate/g)].map((m) => m[1]);
  const mirrored = (res.headers.get("x-mirrored-by") ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  return [...link, ...mirrored, res.headers.get("location") ?? ""].filter(Boolean);
}

describe.skipIf(!NGINX)(NGINX ? "mirrors on real nginx" : "mirrors on real nginx (skipped: nginx not installed; apt-get install nginx-light)", () => {
  let dir;
  let stack;
  let base;
  let control;
  /** @type {Record<string, { url: string, close(): Promise<void> }>} */
  const mirrors = {};
  const url = (name) => mirrors[name].url;

  /** A mirror's copy: the origin's bytes (or `size` other bytes) with the given mtime. */
  async function copy(root, file, { bytes, mtime }) {
    const target = path.join(root, file);
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, bytes);
    await utimes(target, mtime, mtime);
  }

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "offload-mirrors-"));
    const [origin, originControl, a, b, basePort] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
    base = `http://127.0.0.1:${basePort}`;
    control = `http://127.0.0.1:${originControl}`;
    // The mirrors first: their URLs go into MIRRORS.
    const roots = {};
    for (const name of ["current", "outdated", "partial", "down"]) {
      roots[name] = path.join(dir, name);
      await mkdir(roots[name], { recursive: true });
      await writeFile(path.join(roots[name], "index.html"), "mirror\n"); // the health check's HEAD /
      mirrors[name] = await startNginx({ root: roots[name] });
    }
    stack = startStack({
      ORIGIN_PORT: String(origin),
      ORIGIN_CONTROL_PORT: String(originControl),
      NODE_PORTS: `${a},${b}`,
      BASE_PORT: String(basePort),
      FARM_PORTS: `${await freePort()},${await freePort()}`,
      CRON_EVERY_SECONDS: "1",
      STATE_DIR: path.join(dir, "state"),
      DEMO_DIR: path.join(dir, "demo"),
      OFFLOAD_MIN_BYTES: "100000",
      BALANCER: "round-robin",
      MAX_LINKS: "10",
      MIRRORS: JSON.stringify(Object.keys(mirrors).map((id) => ({ id, url: url(id), prefixes: ["/pub/"] }))),
      MIRRORS_ALLOW_PRIVATE: "true", // 127.0.0.1 mirrors, where the config checks addresses
      MIRROR_MAX_LAG_FILES: "1",
      MIRROR_MAX_LAG_SECONDS: "0",
      // Passes an hour apart: the pass below is the one the admin's Rescan starts.
      MIRROR_SCAN_MINUTES: "60",
      ADMIN_TOKEN,
    });
    await stack.ready;
    // The origin's files, then each mirror's copies.
    for (const [i, file] of FILES.entries()) {
      const put = await fetch(`${control}/files${file}?size=${SIZE}&seed=${i + 7}&mtime=${MTIME}`, { method: "PUT" });
      expect(put.ok).toBe(true);
      const bytes = Buffer.from(await (await fetch(`http://127.0.0.1:${origin}${file}`)).arrayBuffer());
      const other = Buffer.alloc(SIZE - 1000, 1);
      for (const name of ["current", "down"]) await copy(roots[name], file, { bytes, mtime: MTIME });
      // outdated: a.bin other size and older, c.bin same size but older; b.bin current.
      if (file.endsWith("a.bin")) await copy(roots.outdated, file, { bytes: other, mtime: MTIME - 86_400 });
      else if (file.endsWith("c.bin")) await copy(roots.outdated, file, { bytes, mtime: MTIME - 3600 });
      else await copy(roots.outdated, file, { bytes, mtime: MTIME });
      // partial: lacks c.bin.
      if (!file.endsWith("c.bin")) await copy(roots.partial, file, { bytes, mtime: MTIME });
    }
  });

  afterAll(async () => {
    if (stack && stack.child.exitCode === null) {
      try {
        process.kill(-stack.child.pid, "SIGKILL");
      } catch {}
    }
    for (const m of Object.values(mirrors)) await m.close().catch(() => {});
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** `n` answers for the file (round-robin: each names the next target first). */
  async function answers(file, n = 12) {
    const out = [];
    for (let i = 0; i < n; i++) out.push(await fetch(base + file, { redirect: "manual" }));
    for (const r of out) await r.body?.cancel();
    return out;
  }
  const mirrorsNamed = (list) => new Set(list.flatMap(named).map((u) => Object.keys(mirrors).find((m) => u.startsWith(`${url(m)}/`))).filter(Boolean));
  const locations = (list) => new Set(list.map((r) => Object.keys(mirrors).find((m) => (r.headers.get("location") ?? "").startsWith(`${url(m)}/`))).filter(Boolean));

  it("sends clients only to current copies; Link, X-Mirrored-By and the .meta4 never name the outdated or partial ones", async () => {
    // The first requests make the base verify each mirror's copy (in the background).
    for (const f of FILES) await answers(f, 1);
    let seen = new Set();
    for (let i = 0; i < 40 && !seen.has("current"); i++) {
      await sleep(250);
      seen = locations(await answers(FILES[0], 6));
    }
    const a = await answers(FILES[0]);
    expect(locations(a)).toEqual(new Set(["current", "partial", "down"]));
    expect(mirrorsNamed(a)).toEqual(new Set(["current", "partial", "down"]));
    const c = await answers(FILES[2]);
    expect(mirrorsNamed(c)).toEqual(new Set(["current", "down"]));
    for (const r of [...a, ...c]) expect(r.status).toBe(307);
    const meta4 = await (await fetch(`${base}${FILES[2]}.meta4`)).text();
    expect(meta4).toContain(`${url("current")}${FILES[2]}`);
    expect(meta4).not.toContain(url("outdated"));
    expect(meta4).not.toContain(url("partial"));
  });

  it("the Cron's scan disables the mirror lagging beyond MIRROR_MAX_LAG_FILES, even for the file it holds current", async () => {
    // outdated: 2 files behind (limit 1); partial: 1 file missing, within the limit. The
    // first Cron run found no file to scan yet (none had been asked for), and the next pass
    // is MIRROR_SCAN_MINUTES away: the operator's Rescan has the next Cron run start one.
    const rescan = await fetch(`${base}/_admin/api/mirrors/outdated/rescan`, { method: "POST", headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(rescan.status, await rescan.text()).toBe(200);
    for (let i = 0; i < 120 && !stack.output().includes('"msg":"mirror.lag-disabled","requestId":null,"worker":null,"mirror":"outdated"'); i++) await sleep(250);
    expect(stack.output()).toContain('"msg":"mirror.lag-disabled","requestId":null,"worker":null,"mirror":"outdated","reason":"lagging: 2 files outdated or missing (limit 1)"');
    expect(stack.output()).not.toContain('"msg":"mirror.lag-disabled","requestId":null,"worker":null,"mirror":"partial"');
    // The isolate's catalog view (which carries the lag states) is refreshed in the background
    // once 5 s old: the request that finds it stale still uses it, the next ones do not.
    await sleep(6_000);
    await answers(FILES[1], 1);
    await sleep(500);
    const b = await answers(FILES[1]);
    expect(mirrorsNamed(b)).toEqual(new Set(["current", "partial", "down"]));
  });

  it("a mirror that goes down mid-run is no longer named once the health checks see it", async () => {
    await mirrors.down.close();
    // HEALTH_FALL (2) failed checks, one per Cron second, then the health view's 2 s.
    for (let i = 0; i < 60 && mirrorsNamed(await answers(FILES[1], 4)).has("down"); i++) await sleep(250);
    for (const f of FILES) {
      const list = await answers(f);
      expect(mirrorsNamed(list).has("down")).toBe(false);
      for (const r of list) expect(r.status).toBe(307);
      expect(locations(list).has("current")).toBe(true);
    }
  });
});
