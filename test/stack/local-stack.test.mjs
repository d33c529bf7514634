// The local stack exactly as `bash scripts/start` runs it (scripts/dev-stack.mjs), driven
// over real sockets: raw request paths, distinct TCP peers, aria2c, Ctrl-C.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../scripts/lib/free-port.mjs";
import { startStack } from "./stack-process.mjs";

const ISO = "/iso/distro-64m.iso";


/** GET from a chosen source address; resolves with the response, body unread. */
function getFrom(url, localAddress = "127.0.0.1", headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { localAddress, headers, agent: false }, resolve);
    req.once("error", reject);
  });
}

function readAll(res) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    res.on("data", (c) => chunks.push(c));
    res.once("end", () => resolve(Buffer.concat(chunks)));
    res.once("error", reject);
  });
}

function sha256File(file) {
  return new Promise((resolve, reject) => {
    const h = createHash("sha256");
    createReadStream(file).on("data", (d) => h.update(d)).once("end", () => resolve(h.digest("hex"))).once("error", reject);
  });
}

/** Every process still in the stack's process group (workerd included). */
function groupMembers(pgid) {
  const r = spawnSync("ps", ["-o", "pid=", "-g", String(pgid)], { encoding: "utf8" });
  return r.stdout.split("\n").map((s) => s.trim()).filter(Boolean);
}

describe("local stack (scripts/start)", () => {
  let dir;
  let stack;
  let nodeA;
  let nodeB;
  let base;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "offload-stack-"));
    const [origin, a, b, basePort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    nodeA = `http://127.0.0.1:${a}`;
    nodeB = `http://127.0.0.1:${b}`;
    base = `http://127.0.0.1:${basePort}`;
    stack = startStack({
      ORIGIN_PORT: String(origin),
      ORIGIN_CONTROL_PORT: String(await freePort()),
      NODE_PORTS: `${a},${b}`,
      BASE_PORT: String(basePort),
      FARM_PORTS: `${await freePort()},${await freePort()}`, // the demo farm's members, off the defaults
      CRON_EVERY_SECONDS: "1",
      STATE_DIR: path.join(dir, "state"),
      DEMO_DIR: path.join(dir, "demo"),
      MAX_CONNECTIONS_PER_CLIENT: "2",
      // Bundled by this start, as a user's is (the other stack tests share one build per run).
      NODE_BUNDLE: "",
      BASE_BUNDLE: "",
    });
    await stack.ready;
  });

  afterAll(async () => {
    if (stack && stack.child.exitCode === null) {
      try {
        process.kill(-stack.child.pid, "SIGKILL");
      } catch {}
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("prints the address of every service", () => {
    expect(stack.output()).toMatch(/demo origin\s+http:\/\/127\.0\.0\.1:\d+/);
    expect(stack.output()).toContain(nodeA);
    expect(stack.output()).toContain(nodeB);
    expect(stack.output()).toContain(base);
  });

  it("curl -L through the base ends on a node with the right bytes; small files come from the base itself", () => {
    const r = spawnSync("curl", ["-sL", "-o", path.join(dir, "via-base.iso"), "-w", "%{http_code} %{num_redirects} %{url_effective}", base + ISO], { encoding: "utf8" });
    const [code, redirects, effective] = r.stdout.split(" ");
    expect([code, redirects]).toEqual(["200", "1"]);
    expect([nodeA, nodeB]).toContain(new URL(effective).origin);
    const small = spawnSync("curl", ["-s", "-D", "-", "-o", "/dev/null", base + "/small/hello.txt"], { encoding: "utf8" });
    expect(small.stdout).toMatch(/^HTTP\/1.1 200/);
    expect(small.stdout).toMatch(/cache-status: offload-base; fwd=bypass; detail=small/i);
  });

  it("aria2c follows the base's Metalink, downloads from both nodes at once and verifies the SHA-256", async () => {
    if (!existsSync("/usr/bin/aria2c")) return; // reported by the aria2c test below
    // Once a node has stored the file, the base learns its digest (re-read within 5 s).
    await readAll(await getFrom(nodeA + ISO));
    let xml = "";
    for (let i = 0; i < 40 && !xml.includes("<hash"); i++) {
      xml = (await readAll(await getFrom(base + ISO + ".meta4"))).toString();
      if (!xml.includes("<hash")) await new Promise((r) => setTimeout(r, 250));
    }
    expect(xml).toContain('<hash type="sha-256">');
    const out = path.join(dir, "metalink");
    const r = spawnSync(
      "aria2c",
      ["--log=-", "--log-level=info", "-x4", "-s4", "-k1M", "--retry-wait=1", "--max-tries=0", "--allow-overwrite=true", "--summary-interval=0", "-d", out, base + ISO + ".meta4"],
      { encoding: "utf8", timeout: 150_000, maxBuffer: 64 * 1024 * 1024 },
    );
    expect(r.status, r.stderr.slice(-2000)).toBe(0);
    expect(r.stdout).toMatch(/Verification finished successfully|hash check/i);
    for (const node of [nodeA, nodeB]) expect(r.stdout).toContain(new URL(node).host);
    expect(await sha256File(path.join(out, "distro-64m.iso"))).toBe(await sha256File(path.join(dir, "demo", "iso", "distro-64m.iso")));
  });

  it("sha256sum -c accepts the base's <file>.sha256 for a download through the base (issue #14 part 5)", async () => {
    // The digest is known once a node has stored the whole file (re-read within 5 s).
    await readAll(await getFrom(nodeA + ISO));
    const out = path.join(dir, "sha256sum");
    const sums = path.join(out, "distro-64m.iso.sha256");
    let code = "";
    for (let i = 0; i < 40 && code !== "200"; i++) {
      code = spawnSync("curl", ["-s", "--create-dirs", "-o", sums, "-w", "%{http_code}", base + ISO + ".sha256"], { encoding: "utf8" }).stdout;
      if (code !== "200") await new Promise((r) => setTimeout(r, 250));
    }
    expect(code).toBe("200");
    expect(spawnSync("curl", ["-sfL", "-o", path.join(out, "distro-64m.iso"), base + ISO]).status).toBe(0);
    const ok = spawnSync("sha256sum", ["-c", "distro-64m.iso.sha256"], { cwd: out, encoding: "utf8" });
    expect(ok.stdout + ok.stderr).toBe("distro-64m.iso: OK\n");
    expect(ok.status).toBe(0);
    // And it does check: a cut-short download under that name fails.
    expect(spawnSync("curl", ["-sfL", "-r", "0-1023", "-o", path.join(out, "distro-64m.iso"), base + ISO]).status).toBe(0);
    expect(spawnSync("sha256sum", ["-c", "--quiet", "distro-64m.iso.sha256"], { cwd: out }).status).toBe(1);
  });

  it("refuses path traversal in any spelling with 400, as sent on the wire", () => {
    for (const p of ["/a/../etc/passwd", "/%2e%2e/etc/passwd", "/a/.%2E/x", "/a/%2e%2e%2fetc", "/a\\..\\b", "/./x", "/a/%00/b"]) {
      const r = spawnSync("curl", ["-s", "--path-as-is", "-w", "\n%{http_code}", nodeA + p], { encoding: "utf8" });
      const lines = r.stdout.trimEnd().split("\n");
      expect(lines.at(-1), p).toBe("400");
      expect(lines[0], p).toMatch(/^bad request path: /);
    }
  });

  it("node-b serves the copy node-a stored (one R2 bucket, one set of Durable Objects)", async () => {
    const first = await getFrom(nodeA + "/releases/app-1.0.tar.gz");
    expect(first.headers["cache-status"]).toMatch(/^node-a; fwd=miss/);
    const a = await readAll(first);
    const second = await getFrom(nodeB + "/releases/app-1.0.tar.gz");
    expect(second.headers["cache-status"]).toMatch(/^node-b; fwd=stale; fwd-status=200; detail=r2/);
    expect((await readAll(second)).equals(a)).toBe(true);
  });

  it("counts downloads per real TCP peer: a third from 127.0.0.1 is refused, 127.0.0.2 is another client", async () => {
    await readAll(await getFrom(nodeA + ISO)); // stored first, so downloads stay in flight
    const held = [await getFrom(nodeA + ISO), await getFrom(nodeA + ISO)];
    for (const r of held) r.pause();
    expect(held.map((r) => r.statusCode)).toEqual([200, 200]);
    const refused = await getFrom(nodeA + ISO, "127.0.0.1", { "cf-connecting-ip": "203.0.113.9" });
    expect(refused.statusCode).toBe(503);
    expect(refused.headers["retry-after"]).toBeDefined();
    expect((await readAll(refused)).toString()).toMatch(/too many simultaneous downloads/);
    const other = await getFrom(nodeA + ISO, "127.0.0.2");
    expect(other.statusCode).toBe(200);
    for (const r of [...held, other]) r.destroy();
  });

  it.skipIf(!existsSync("/usr/bin/aria2c"))("aria2c -x16 completes the download with the connections it is allowed", async () => {
    const out = path.join(dir, "aria");
    const r = spawnSync(
      "aria2c",
      ["-x16", "-s16", "-k1M", "--retry-wait=1", "--max-tries=0", "--allow-overwrite=true", "--console-log-level=warn", "--summary-interval=0", "-d", out, "-o", "iso.bin", nodeA + ISO],
      { encoding: "utf8", timeout: 150_000 },
    );
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(await sha256File(path.join(out, "iso.bin"))).toBe(await sha256File(path.join(dir, "demo", "iso", "distro-64m.iso")));
  });

  it("Ctrl-C stops every process of the stack and exits 0", async () => {
    const pgid = stack.child.pid;
    expect(groupMembers(pgid).length).toBeGreaterThan(1); // node + workerd at least
    process.kill(pgid, "SIGINT");
    const { code } = await stack.exited;
    expect(code).toBe(0);
    await new Promise((r) => setTimeout(r, 500));
    expect(groupMembers(pgid)).toEqual([]);
  });

  it("refuses to start with an invalid setting, naming it", async () => {
    const bad = startStack({ MAX_CONNECTIONS_PER_CLIENT: "-3", NODE_PORTS: `${await freePort()},${await freePort()}`, ORIGIN_PORT: String(await freePort()) });
    bad.ready.catch(() => {}); // expected never to become ready
    const { code, out } = await bad.exited;
    expect(code).toBe(1);
    expect(out).toMatch(/MAX_CONNECTIONS_PER_CLIENT/);
  });
});
