// The admin page as an operator uses it: the local stack (scripts/dev-stack.mjs, with its
// demo farm) driven by a real Chromium through playwright-core. Sign in, disable a farm
// member with its button, and check that query mode and the farm's proxy route stop
// using it at once; read the offload totals the nodes report; keep a screenshot.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rm, stat } from "node:fs/promises";
import path from "node:path";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStackOnFreePorts, stopStack } from "./stack-process.mjs";

const ROOT = path.resolve(import.meta.dirname, "../..");
const CHROMIUM = "/usr/bin/chromium";
const SCREENSHOT = path.join(ROOT, "test-results", "admin-ui.png");
// Debian's chromium, not Playwright's own builds (never downloaded). The background-
// networking flags keep it from dialling out: this machine's network refuses that.
const CHROMIUM_ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];
// src/farms/runtime.ts FARM_VIEW_TTL_MS (2 s): the longest an isolate balances on its old
// copy of the member states. The admin's own isolate sees a change at once; wait out the
// bound anyway so the assertion holds for any isolate.
const FARM_VIEW_TTL_MS = 2000;
// src/mirrors/catalog-view.ts CATALOG_VIEW_TTL_MS (5 s): the same bound for the mirror catalog.
const CATALOG_VIEW_TTL_MS = 5000;

const SKIP = existsSync(CHROMIUM) ? null : `skipped: ${CHROMIUM} is missing (bash scripts/test installs Debian's chromium when run as root with apt-get)`;
if (SKIP) console.warn(`admin UI test ${SKIP}`);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(SKIP)("admin UI in Chromium (scripts/start's demo farm)", () => {
  const adminToken = `admin-${randomBytes(12).toString("hex")}`;
  const athToken = `ath-${randomBytes(12).toString("hex")}`;
  let dir;
  let stack;
  let context;
  let page;
  let base;
  let nodeA;
  let web1;
  let web2;
  let originUrl;

  beforeAll(async () => {
    let urls;
    ({ dir, stack, urls } = await startStackOnFreePorts("offload-admin-ui-", {
      CRON_EVERY_SECONDS: "1",
      ADMIN_TOKEN: adminToken,
      ATH_TOKEN: athToken,
    }));
    base = urls.base;
    nodeA = urls.nodes[0];
    [web1, web2] = urls.farms;
    originUrl = urls.origin;
    await stack.ready;
    context = await chromium.launchPersistentContext(path.join(dir, "chromium-profile"), {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 900 },
    });
    page = context.pages()[0] ?? (await context.newPage());
  });

  afterAll(async () => {
    await context?.close().catch((e) => console.error(`closing chromium: ${e.message}`));
    await stopStack(stack);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("the stack prints the demo farm, the admin URL (not the token it was given) and a query-mode example", () => {
    const out = stack.output();
    expect(out).toMatch(new RegExp(`farm web1\\s+${web1}`));
    expect(out).toMatch(new RegExp(`farm web2\\s+${web2}`));
    expect(out).toContain(`admin          ${base}/_admin  (token: from ADMIN_TOKEN)`);
    expect(out).not.toContain(adminToken);
  });

  it("without credentials /_admin and its API answer 401 and show no member", async () => {
    for (const url of [`${base}/_admin`, `${base}/_admin/api/farms`]) {
      const res = await fetch(url, { redirect: "manual" });
      const body = await res.text();
      expect(res.status, url).toBe(401);
      expect(body, url).not.toContain(web1);
      expect(body, url).not.toContain(web2);
      expect(body, url).not.toContain("web1");
    }
    const wrong = await fetch(`${base}/_admin/api/farms`, { headers: { authorization: "Bearer not-the-admin-token" } });
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).not.toContain(web1);
  });

  it("shows the sign-in form (401), then farm_one with web1 and web2 enabled", async () => {
    const res = await page.goto(`${base}/_admin`);
    expect(res?.status()).toBe(401);
    const tokenField = page.locator('form[action="/_admin/login"] input[name="token"]');
    await tokenField.waitFor();
    expect(await page.content()).not.toContain(web1);

    await tokenField.fill(adminToken);
    await page.getByRole("button", { name: "Sign in" }).click();
    const row = (id) => page.locator(`tr[data-member="farm_one/${id}"]`);
    await row("web1").waitFor();
    expect(await page.locator('section[data-farm="farm_one"] h3').textContent()).toBe("farm_one");
    for (const [id, url] of [["web1", web1], ["web2", web2]]) {
      expect((await row(id).locator("td.state").textContent())?.trim(), id).toBe("enabled");
      await expect.poll(() => row(id).textContent()).toContain(url);
    }
    // Signed in by cookie: the session must not be a token in the URL.
    expect(page.url()).toBe(`${base}/_admin`);
  });

  it("Disable on web1 turns its state to disabled with a message, and only web2 is used", async () => {
    const web1Row = page.locator('tr[data-member="farm_one/web1"]');
    await web1Row.locator('button[name="state"][value="disabled"]').click();
    const flash = page.locator('p.flash[role="status"]');
    await flash.waitFor();
    expect(await flash.textContent()).toBe("farm_one/web1 is now disabled");
    expect((await web1Row.locator("td.state").textContent())?.trim()).toBe("disabled");
    expect(await web1Row.locator("td.state").getAttribute("class")).toContain("disabled");
    expect((await page.locator('tr[data-member="farm_one/web2"] td.state').textContent())?.trim()).toBe("enabled");
    // The Disable button is gone for web1 (it is disabled); Enable and Drain remain.
    expect(await web1Row.locator('button[value="disabled"]').count()).toBe(0);
    expect(await web1Row.locator('button[value="enabled"]').count()).toBe(1);

    await sleep(FARM_VIEW_TTL_MS + 500);
    const chosen = [];
    for (let i = 0; i < 6; i++) {
      const res = await fetch(`${base}/ath/balance/?farm_one`, { headers: { authorization: `Bearer ${athToken}` } });
      expect(res.status).toBe(200);
      chosen.push((await res.text()).trim());
    }
    expect(chosen).toEqual(Array(6).fill(web2));

    const answers = [];
    for (let i = 0; i < 6; i++) {
      const res = await fetch(`${base}/app/page-${i}`);
      expect(res.status).toBe(200);
      answers.push((await res.text()).trim());
    }
    expect(answers).toEqual(Array.from({ length: 6 }, (_, i) => `web2 answered GET /app/page-${i}`));
  });

  it("shows the offload totals the nodes report: bytes from the origin, then from the copy", async () => {
    // First download fills the copy from the origin; the second is served from it.
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${nodeA}/releases/app-1.0.tar.gz`);
      expect(res.status).toBe(200);
      expect((await res.arrayBuffer()).byteLength).toBe(5 * 1024 * 1024);
    }
    // Writers flush in batches (STATS_FLUSH_SECONDS, 2 in the local stack), and only when
    // an answer comes in after that time (src/stats/recorder.ts): an idle node keeps its
    // last batch. So poll, and give the node an answer to count (a HEAD, 0 bytes) each time.
    let totals;
    for (const deadline = Date.now() + 20_000; Date.now() < deadline; await sleep(500)) {
      await fetch(`${nodeA}/releases/app-1.0.tar.gz`, { method: "HEAD" });
      const res = await fetch(`${base}/_admin/api/stats?minutes=60`, { headers: { authorization: `Bearer ${adminToken}` } });
      expect(res.status).toBe(200);
      totals = (await res.json()).totals;
      if (totals.copyBytes > 0 && totals.originBytes > 0) break;
    }
    expect(totals.originBytes).toBeGreaterThanOrEqual(5 * 1024 * 1024);
    expect(totals.copyBytes).toBeGreaterThanOrEqual(5 * 1024 * 1024);

    await page.goto(`${base}/_admin`);
    const card = (label) => page.locator("#offload-totals .card", { hasText: label }).locator("b");
    for (const label of ["From copies", "From the origin"]) {
      expect(await card(label).textContent(), label).toMatch(/^[\d.]+ MiB$/);
    }
    expect(await page.locator("#table-top-files").textContent()).toContain("/releases/app-1.0.tar.gz");


    // The window selector reloads the page for that window; the CSV link beside the top
    // files downloads the same rows the table shows.
    await page.locator("form#window select").selectOption("1440");
    await page.locator("form#window").getByRole("button", { name: "Show" }).click();
    await page.waitForURL(/minutes=1440/);
    expect(await page.locator("h2", { hasText: "Offload, last" }).textContent()).toBe("Offload, last 1440 minutes");
    const [download] = await Promise.all([page.waitForEvent("download"), page.locator("#table-top-files + p a.csv").click()]);
    expect(download.suggestedFilename()).toBe("offload-top-files-1440m.csv");
    const csv = await readFile(await download.path(), "utf8");
    const [header, ...rows] = csv.trimEnd().split("\r\n").map((l) => l.split(","));
    expect(header).toEqual(["path", "bytes", "copy_bytes", "copy_share", "answers"]);
    const shown = await page.locator("#table-top-files tbody tr td:first-child").allTextContents();
    expect(rows.map((r) => r[0])).toEqual(shown);

    // The plot of bytes per node has node A's bar, drawn from the same totals.
    const bar = page.locator('#bars-nodes g[data-key="node-a"]');
    await bar.waitFor({ timeout: 5000 });
    expect(Number(await bar.locator("rect.all").getAttribute("width"))).toBeGreaterThan(0);
  });

  it("adds a mirror with the form, sees it in the redirect's Link once verified, and disables it: it leaves the Link header", async () => {
    // The demo origin holds every file at its current size and date: a mirror as good as any.
    const file = `${base}/releases/app-1.0.tar.gz`;
    const mirrorLinks = async () => {
      const res = await fetch(file, { redirect: "manual" });
      await res.arrayBuffer();
      return (res.headers.get("link") ?? "").split(",").filter((l) => l.includes(`<${originUrl}/releases/app-1.0.tar.gz>`) && l.includes("rel=duplicate"));
    };
    expect(await mirrorLinks()).toEqual([]);

    await page.goto(`${base}/_admin`);
    const add = page.locator("form#mirror-add");
    await add.locator('input[name="id"]').fill("demo-mirror");
    await add.locator('input[name="url"]').fill(originUrl);
    await add.locator('input[name="country"]').fill("NL");
    await add.locator('input[name="lat"]').fill("52.37");
    await add.locator('input[name="lon"]').fill("4.9");
    await add.getByRole("button", { name: "Add" }).click();
    await page.locator('p.flash[role="status"]').waitFor();
    expect(await page.locator('p.flash[role="status"]').textContent()).toBe("mirror added");
    const row = page.locator('tr[data-mirror="demo-mirror"]');
    expect((await row.locator("td.state").textContent())?.trim()).toBe("enabled");
    expect(await row.textContent()).toContain(originUrl);

    // First redirect: the copy is checked in the background; then the mirror is named.
    await expect.poll(async () => (await mirrorLinks()).length, { timeout: 20_000, interval: 300 }).toBe(1);
    await page.goto(`${base}/_admin`);
    expect(await row.textContent()).toMatch(/current \/releases\/app-1\.0\.tar\.gz/);

    await row.getByRole("button", { name: "Disable" }).click();
    await page.locator('p.flash[role="status"]').waitFor();
    expect(await page.locator('p.flash[role="status"]').textContent()).toBe("mirror demo-mirror: disable done");
    expect((await page.locator('tr[data-mirror="demo-mirror"] td.state').textContent())?.trim()).toBe("disabled");
    expect(await page.locator("#mirror-history").textContent()).toMatch(/demo-mirror\s*admin \(session\)\s*disabled/);

    await sleep(CATALOG_VIEW_TTL_MS + 500);
    for (let i = 0; i < 4; i++) expect(await mirrorLinks()).toEqual([]);
    const listed = await (await fetch(`${base}/_admin/api/mirrors`, { headers: { authorization: `Bearer ${adminToken}` } })).json();
    expect(listed.mirrors.find((m) => m.id === "demo-mirror")).toMatchObject({ enabled: false, source: "admin" });
  });

  it("purges the releases folder with the form: the flash counts the copies, and node-a refills from the origin", async () => {
    await page.goto(`${base}/_admin`);
    const form = page.locator("form#purge");
    await form.locator('input[name="prefix"]').fill("/releases/");
    await form.locator('button[type="submit"]').click();
    await page.locator('p.flash[role="status"]').waitFor();
    expect(await page.locator('p.flash[role="status"]').textContent()).toMatch(/^purged [1-9]\d* cop(y|ies) under \/releases\/$/);
    // src/config/node-config.ts PURGE_CHECK_SECONDS (2 s): the bound for node-a's colo copy.
    let status = "";
    for (const deadline = Date.now() + 2000 + 1500; Date.now() < deadline && !/fwd=miss/.test(status); await sleep(100)) {
      const res = await fetch(`${nodeA}/releases/app-1.0.tar.gz`);
      await res.arrayBuffer();
      status = res.headers.get("cache-status") ?? "";
    }
    expect(status).toMatch(/fwd=miss/);
  });

  it("saves a full-page screenshot (test-results/admin-ui.png)", async () => {
    await page.goto(`${base}/_admin`);
    await page.locator('tr[data-member="farm_one/web1"]').waitFor();
    await mkdir(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    const png = await readFile(SCREENSHOT);
    expect(png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
    expect(png.toString("latin1", 12, 16)).toBe("IHDR");
    expect(png.readUInt32BE(16)).toBe(1280); // width: the viewport
    expect(png.readUInt32BE(20)).toBeGreaterThanOrEqual(900); // height: the whole page
    expect((await stat(SCREENSHOT)).size).toBeGreaterThan(20_000);
  });
});
