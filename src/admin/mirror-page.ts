/**
 * The admin page's Mirrors card: the runtime catalog (mirrors/catalog.ts) with each
 * mirror's state, last verdict and traffic, its forms (add, edit, enable/disable,
 * rescan, delete; each a POST with the CSRF token) and the catalog's history.
 * hono/html escapes every interpolated value.
 */
import { html } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import type { AdminMirror, MirrorsData } from "./mirror-actions";
import { ago, bytes, time } from "./format";

type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

const hidden = (csrf: string, id: string) => html`<input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="id" value="${id}">`;

export function mirrorsSection(d: MirrorsData, csrf: string, now: number): Html {
  return html`<h2 id="mirrors">Mirrors</h2>
<p class="muted">MIRRORS is the seed list; changes made here are kept across deploys. A mirror gets a file only once a check showed it holds the current version.</p>
<table id="mirror-table"><thead><tr><th>Id</th><th>URL</th><th>State</th><th class="num">Weight</th><th>Location</th><th>Prefixes</th><th>Last check</th><th>Last error</th><th>Scan</th><th class="num">Redirects/min</th><th class="num">Bytes/min</th><th>Actions</th></tr></thead><tbody>
${d.mirrors.length ? d.mirrors.map((m) => mirrorRow(m, csrf, now)) : html`<tr><td colspan="12" class="muted">No mirrors.</td></tr>`}
</tbody></table>
<form method="post" action="/_admin/mirrors" id="mirror-add">
  <input type="hidden" name="csrf" value="${csrf}">
  <b>Add a mirror</b>
  <label>Id <input name="id" maxlength="64" placeholder="from the host"></label>
  <label>URL <input name="url" required maxlength="2048" placeholder="https://mirror.example.org/pub"></label>
  <label>Weight <input name="weight" size="4" placeholder="1"></label>
  <label>Prefixes <input name="prefixes" placeholder="/iso/ /releases/"></label>
  <label>Lat <input name="lat" size="6"></label> <label>Lon <input name="lon" size="6"></label> <label>Country <input name="country" size="2" maxlength="2"></label>
  <button type="submit">Add</button>
</form>
<h3>Mirror history</h3>
<table id="mirror-history"><thead><tr><th>Time (UTC)</th><th>Mirror</th><th>Who</th><th>What</th><th>Before</th><th>After</th></tr></thead><tbody>
${d.history.length ? d.history.map((h) => html`<tr><td>${time(h.at)}</td><td>${h.mirror}</td><td>${h.who}</td><td>${h.what}</td><td><code>${h.before ?? ""}</code></td><td><code>${h.after ?? ""}</code></td></tr>`) : html`<tr><td colspan="6" class="muted">No changes yet.</td></tr>`}
</tbody></table>`;
}

function mirrorRow(m: AdminMirror, csrf: string, now: number): Html {
  const s = m.spec;
  // The admin's switch first; an enabled mirror may still be out by the lag policy.
  const state = !m.enabled ? "disabled" : m.scan?.lagging ? "lagging" : "enabled";
  const where = s.location ? `${s.location.country ?? ""} ${s.location.lat}, ${s.location.lon}`.trim() : "–";
  const verdict = (v: AdminMirror["last"]) => (v ? html`${v.verdict} ${v.path}<br><span class="muted">${v.detail}, ${ago(v.checkedAt, now)}</span>` : html`<span class="muted">none</span>`);
  const op = (name: string, label: string) => html`<form method="post" action="/_admin/mirrors/state" class="inline">${hidden(csrf, m.id)}<button type="submit" name="op" value="${name}">${label}</button></form> `;
  return html`<tr data-mirror="${m.id}">
<td>${m.id}<br><span class="muted">${m.source}${m.edited ? " (edited)" : ""}</span></td><td>${s.url}</td><td class="state ${state}">${state}${state === "lagging" ? html`<br><span class="muted">${m.scan!.reason}</span>` : ""}</td>
<td class="num">${s.weight}</td><td>${where}</td><td>${s.prefixes.length ? s.prefixes.join(" ") : "all"}</td>
<td>${verdict(m.last)}</td><td>${verdict(m.lastProblem)}</td><td>${scanCell(m.scan, now)}</td>
<td class="num">${m.perMinute ? m.perMinute.redirects.toFixed(1) : "–"}</td><td class="num">${m.perMinute ? bytes(Math.round(m.perMinute.bytes)) : "–"}</td>
<td>${m.enabled ? op("disable", "Disable") : op("enable", "Enable")}${op("rescan", "Rescan")}${op("delete", "Delete")}
<form method="post" action="/_admin/mirrors/edit" class="mirror-edit">${hidden(csrf, m.id)}
<input name="weight" size="4" placeholder="${String(s.weight)}" aria-label="weight"> <input name="prefixes" size="10" placeholder="prefixes" aria-label="prefixes"> <input name="url" size="14" placeholder="url" aria-label="url">
<button type="submit">Save</button></form></td></tr>`;
}

/** Lag (files outdated or missing, since when), the last scan and its last error. */
function scanCell(s: AdminMirror["scan"], now: number): Html {
  if (!s) return html`<span class="muted">not scanned yet</span>`;
  const lag = s.lagFiles ? html`${s.lagFiles} behind${s.oldestLagSince ? html`, oldest ${ago(s.oldestLagSince, now)}` : ""}` : html`up to date`;
  return html`${lag}<br><span class="muted">scanned ${s.scannedAt ? ago(s.scannedAt, now) : "never"}${s.lastError ? html`; ${s.lastError}` : ""}</span>`;
}
