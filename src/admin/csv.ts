/**
 * CSV text (RFC 4180) for the admin's exports. Own code, not a CSV library: writing is
 * a dozen lines, and the exports only ever write (no parsing, no streaming).
 */

export type CsvCell = string | number | null;

/**
 * RFC 4180 §2: a field holding a comma, a double quote or a line break is quoted, inner
 * quotes doubled; records end with CRLF. A text field starting with = + - @ or a control
 * character is prefixed with ' so a spreadsheet never runs it as a formula (OWASP "CSV
 * injection"): paths, mirror ids and country codes come from outside. Numbers pass as they are.
 */
export function csvField(v: CsvCell): string {
  if (v === null) return "";
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : "";
  const safe = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export function toCsv(header: readonly string[], rows: readonly (readonly CsvCell[])[]): string {
  return [header, ...rows].map((r) => r.map(csvField).join(",") + "\r\n").join("");
}
