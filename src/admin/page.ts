/**
 * Server-rendered admin pages (hono/html: every interpolated string is HTML-escaped,
 * so names, URLs, reasons and paths from config or requests cannot inject markup).
 * Plain forms, no script: each action is a POST with the CSRF token, answered by a
 * redirect back to the page (POST/redirect/GET).
 */
import { html, raw } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import type { StatsSummary } from "../stats/types";
import { offloadSection } from "./offload-section";
import type { AdminFarm, AdminMember, HealthData } from "./data";
import type { MirrorsData } from "./mirror-actions";
import { mirrorsSection } from "./mirror-page";
import { ago, time } from "./format";

type Html = HtmlEscapedString | Promise<HtmlEscapedString> | "";

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:0 auto;max-width:1100px;padding:1rem 1.5rem;color:#1d2430}
h1{font-size:1.4rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #d5dae1}
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #eef0f3;vertical-align:top}
th{background:#f5f7fa}.num{text-align:right;font-variant-numeric:tabular-nums}
.state{font-weight:600}.enabled,.up{color:#137333}.draining{color:#a15c00}.disabled{color:#5f6368}.down{color:#b3261e}
.cards{display:flex;gap:1rem;flex-wrap:wrap}.card{border:1px solid #d5dae1;border-radius:6px;padding:.5rem 1rem;min-width:9rem}
.card b{display:block;font-size:1.3rem}.muted{color:#5f6368}.flash{background:#e8f0fe;padding:.5rem 1rem;border-radius:6px}
.error{background:#fce8e6}form.inline{display:inline}button{cursor:pointer}
svg .grid{stroke:#e3e6ea}svg .axis{font-size:11px;fill:#5f6368}svg .line{fill:none;stroke:#1a73e8;stroke-width:2}svg .pt{fill:#1a73e8}
svg .all{fill:#aecbfa}svg .copy{fill:#1a73e8}.breakdown details{margin:.25rem 0 1rem}
`;

function layout(title: string, body: Html): Html {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${title}</title><style>${raw(STYLE)}</style></head><body>${body}</body></html>`;
}

export function loginPage(message: string | null): Html {
  return layout(
    "Offload CDN admin: sign in",
    html`<h1>Offload CDN admin</h1>
${message ? html`<p class="flash error" role="alert">${message}</p>` : ""}
<form method="post" action="/_admin/login">
  <label>Admin token <input type="password" name="token" autocomplete="current-password" required autofocus></label>
  <button type="submit">Sign in</button>
</form>
<p class="muted">Scripts can use <code>Authorization: Bearer &lt;ADMIN_TOKEN&gt;</code> on <code>/_admin/api/…</code>.</p>`,
  );
}

export interface DashboardData {
  farms: AdminFarm[];
  health: HealthData;
  stats: StatsSummary | null;
  /** Top files asked for (the CSV links ask for as many). */
  top: number;
  csrf: string;
  flash: { text: string; error: boolean } | null;
  now: number;
  mirrors: MirrorsData;
}

export function dashboardPage(d: DashboardData): Html {
  return layout(
    "Offload CDN admin",
    html`<h1>Offload CDN admin</h1>
<form method="post" action="/_admin/logout" class="inline"><input type="hidden" name="csrf" value="${d.csrf}"><button type="submit">Sign out</button></form>
${d.flash ? html`<p class="flash${d.flash.error ? " error" : ""}" role="status">${d.flash.text}</p>` : ""}
${offloadSection({ stats: d.stats, top: d.top, csrf: d.csrf })}
<h2>Farms</h2>
${d.farms.length ? d.farms.map((f) => farmSection(f, d.csrf, d.now)) : html`<p class="muted">No farms configured (FARMS).</p>`}
${mirrorsSection(d.mirrors, d.csrf, d.now)}
${targetsSection(d.health, d.now)}
${historySection(d.health)}`,
  );
}


function farmSection(f: AdminFarm, csrf: string, now: number): Html {
  const check = f.health ? `${f.health.method} ${f.health.path} every ${f.health.intervalSeconds} s, expect ${f.health.expect.join("/")}, rise ${f.health.rise}, fall ${f.health.fall}` : "no active checks";
  return html`<section class="farm" id="farm-${f.name}" data-farm="${f.name}">
<h3>${f.name}</h3>
<p class="muted">Algorithm ${f.algorithm} (load = ${f.loadMetric}) · fallback ${f.fallbackUrl ?? "none"} · ${check}${f.qos.length ? ` · QoS farms ${f.qos.join(", ")}` : ""}</p>
<table><thead><tr><th>Member</th><th>URL</th><th class="num">Weight</th><th>State</th><th>Health</th><th class="num">Load</th><th class="num">Conns</th><th>Stats</th><th>Actions</th></tr></thead><tbody>
${f.members.map((m) => memberRow(f, m, csrf, now))}
</tbody></table></section>`;
}

function memberRow(f: AdminFarm, m: AdminMember, csrf: string, now: number): Html {
  const stats = m.stats ? (m.stats.fresh ? `${ago(m.stats.at, now)}` : `expired (${ago(m.stats.at, now)})`) : "none";
  const button = (state: string, label: string) =>
    m.admin === state
      ? ""
      : html`<form method="post" action="/_admin/members" class="inline"><input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="farm" value="${f.name}"><input type="hidden" name="member" value="${m.id}"><button type="submit" name="state" value="${state}">${label}</button></form> `;
  return html`<tr data-member="${f.name}/${m.id}">
<td>${m.id}</td><td>${m.url}</td><td class="num">${m.weight}</td>
<td class="state ${m.state}">${m.state}</td>
<td>${m.healthy ? html`<span class="up">up</span>` : html`<span class="down">down</span>`}${m.reason ? html`<br><span class="muted">${m.reason}</span>` : ""}<br><span class="muted">checked ${ago(m.checkedAt, now)}</span></td>
<td class="num">${m.stats?.fresh && m.stats.load !== null ? m.stats.load : "–"}</td><td class="num">${m.stats?.fresh && m.stats.conns !== null ? m.stats.conns : "–"}</td>
<td>${stats}</td>
<td>${button("enabled", "Enable")}${button("drain", "Drain")}${button("disabled", "Disable")}</td></tr>`;
}

function targetsSection(h: HealthData, now: number): Html {
  if (!h.targets.length) return "";
  return html`<h2>Offload nodes and mirrors</h2>
<table id="targets"><thead><tr><th>Id</th><th>Kind</th><th>URL</th><th>Health</th><th class="num">Load</th><th>Checked</th></tr></thead><tbody>
${h.targets.map((t) => html`<tr><td>${t.id}</td><td>${t.kind}</td><td>${t.url}</td><td class="${t.healthy ? "up" : "down"}">${t.healthy ? "up" : "down"}${t.reason ? html`<br><span class="muted">${t.reason}</span>` : ""}</td><td class="num">${t.load ?? "–"}</td><td>${ago(t.checkedAt, now)}</td></tr>`)}
</tbody></table>`;
}

function historySection(h: HealthData): Html {
  const rows = [
    ...h.farmEvents.map((e) => ({ at: e.at, what: `${e.farm}/${e.member}`, kind: e.kind, state: e.state, reason: e.reason })),
    ...h.targetHistory.map((t) => ({ at: t.at, what: t.id, kind: "health", state: t.healthy ? "up" : "down", reason: t.reason })),
  ].sort((a, b) => b.at - a.at);
  return html`<h2>Health and state history</h2>
<table id="history"><thead><tr><th>Time (UTC)</th><th>What</th><th>Kind</th><th>State</th><th>Reason</th></tr></thead><tbody>
${rows.length ? rows.map((r) => html`<tr><td>${time(r.at)}</td><td>${r.what}</td><td>${r.kind}</td><td class="${r.state}">${r.state}</td><td>${r.reason}</td></tr>`) : html`<tr><td colspan="5" class="muted">No transitions yet.</td></tr>`}
</tbody></table>`;
}
