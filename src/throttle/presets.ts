/**
 * Modem presets and rate specs for the throttle (mod_dialup's `ModemStandard`).
 *
 * Rates are the DOWNSTREAM data signalling rates of the ITU-T V-series
 * Recommendations (titles quoted from the Recommendations, https://www.itu.int/rec/T-REC-V).
 * Modems count bits: 1 byte = 8 bits, so 56 000 bit/s = 7000 B/s (no start/stop bits,
 * no V.42bis compression: the line rate, not what a 1999 user saw in a progress bar).
 *
 * Apache's mod_dialup (httpd modules/test/mod_dialup.c, `modem_bitrates`) accepts the
 * names V.21, V.26bis, V.32, V.34, V.92 and "i-was-rich-and-got-a-leased-line", case
 * insensitively, and converts kbit/s with 1 k = 1000 (BITRATE_TO_BYTES). We accept all its
 * names with the same conversion. One deliberate difference: mod_dialup gives V.21
 * 0.1 kbit/s (12 B/s), but V.21 is a 300 bit/s modem; we follow the Recommendation.
 */

export interface ModemPreset {
  /** Canonical name, e.g. "V.92". */
  readonly name: string;
  /** Downstream rate in bit/s. */
  readonly bitsPerSecond: number;
  /** Where the rate comes from. */
  readonly source: string;
}

/** Oldest first. Frozen: module state must not change between requests. */
export const MODEM_PRESETS: readonly ModemPreset[] = Object.freeze([
  { name: "V.21", bitsPerSecond: 300, source: "ITU-T V.21 (1964): 300 bits per second duplex modem for the general switched telephone network" },
  { name: "V.22", bitsPerSecond: 1200, source: "ITU-T V.22 (1980): 1200 bits per second duplex modem for the general switched telephone network" },
  { name: "V.22bis", bitsPerSecond: 2400, source: "ITU-T V.22bis (1984): 2400 bits per second duplex modem using the frequency division technique" },
  { name: "V.26bis", bitsPerSecond: 2400, source: "ITU-T V.26bis (1972): 2400/1200 bits per second modem for the general switched telephone network; in mod_dialup at 2.4 kbit/s" },
  { name: "V.32", bitsPerSecond: 9600, source: "ITU-T V.32 (1984): 2-wire duplex modems at data signalling rates of up to 9600 bit/s" },
  { name: "V.32bis", bitsPerSecond: 14_400, source: "ITU-T V.32bis (1991): duplex modem at data signalling rates of up to 14 400 bit/s" },
  { name: "V.34", bitsPerSecond: 28_800, source: "ITU-T V.34 (1994): up to 28 800 bit/s; mod_dialup's V.34 is 28.8 kbit/s" },
  { name: "V.34+", bitsPerSecond: 33_600, source: "ITU-T V.34 (1996 revision, marketed as V.34+): up to 33 600 bit/s" },
  { name: "V.90", bitsPerSecond: 56_000, source: "ITU-T V.90 (1998): up to 56 000 bit/s downstream, 33 600 bit/s upstream" },
  { name: "V.92", bitsPerSecond: 56_000, source: "ITU-T V.92 (2000), enhancements to V.90: 56 000 bit/s downstream, up to 48 000 bit/s upstream" },
  { name: "i-was-rich-and-got-a-leased-line", bitsPerSecond: 1_500_000, source: "not ITU: mod_dialup's leased-line joke, 1500 kbit/s (a T1 carries 1.536 Mbit/s of payload)" },
].map((p) => Object.freeze(p)));

/** "V.92", "v92", "V 92", "v.22 BIS" -> "v92" / "v22bis": case, dots, spaces, dashes and underscores ignored. */
function presetKey(name: string): string {
  return name.toLowerCase().replace(/[.\s_-]/g, "");
}

const BY_KEY: ReadonlyMap<string, ModemPreset> = new Map(MODEM_PRESETS.map((p) => [presetKey(p.name), p]));

/** The preset called `name` (see presetKey for the spellings accepted), if any. */
export function findPreset(name: string): ModemPreset | undefined {
  return BY_KEY.get(presetKey(name));
}

export type ParsedRate =
  | { ok: true; bytesPerSecond: number; label: string }
  | { ok: false; reason: string };

/** Longest spec we read: anything longer is not a rate, and regexes stay cheap. */
const MAX_SPEC_LENGTH = 64;
/** 1 TB/s: more is a typo, not a throttle. */
const MAX_BYTES_PER_SECOND = 1e12;

const PREFIX: Readonly<Record<string, number>> = { "": 1, k: 1e3, m: 1e6, g: 1e9, ki: 1024, mi: 1024 ** 2, gi: 1024 ** 3 };

/**
 * A rate spec -> bytes per second (may be fractional: V.21 is 37.5 B/s).
 *
 * Accepted:
 * - a preset name (MODEM_PRESETS, case-insensitive; "V.92", "v92", "V.34+");
 * - a number, or a string of digits: bytes per second ("7000");
 * - a number with a unit, optionally followed by "/s", "ps" or "/sec":
 *   - bits:  "bit", "bits", "b" (lower case), e.g. "56kbit", "56 kbit/s", "56kbps", "1.5Mb/s";
 *   - bytes: "B" (upper case), "byte", "bytes", e.g. "7000B/s", "64KB/s", "1MB/s", "7000 bytes/s".
 *   Prefixes are SI decimal, case-insensitive: k = 1000, M = 10^6, G = 10^9 (as modems and
 *   mod_dialup count); binary prefixes Ki, Mi, Gi = 1024^n ("64KiB/s" = 65536 B/s).
 *   So "56kbit" = 56 000 bit/s = 7000 B/s, and "1MB/s" = 1 000 000 B/s.
 * Rejected (never thrown): empty, zero, negative, not finite, above 1 TB/s, unknown unit.
 */
export function parseRate(spec: string | number): ParsedRate {
  if (typeof spec === "number") return checked(spec, `${spec} B/s`);
  if (typeof spec !== "string") return { ok: false, reason: "rate must be a string or a number" };
  const text = spec.trim();
  if (text === "") return { ok: false, reason: "empty rate" };
  if (text.length > MAX_SPEC_LENGTH) return { ok: false, reason: `rate spec longer than ${MAX_SPEC_LENGTH} characters` };

  const preset = findPreset(text);
  if (preset) return checked(preset.bitsPerSecond / 8, preset.name);

  const m = /^(\d+(?:\.\d+)?|\.\d+)\s*(?:([kmg]i?)?(bits?|b|bytes?|B))?(?:\/s|\/sec|ps)?$/i.exec(text);
  if (!m) return { ok: false, reason: `not a modem standard (${MODEM_PRESETS.map((p) => p.name).join(", ")}) or a rate like "56kbit", "7000B/s", "1MB/s": ${JSON.stringify(text)}` };
  const value = Number(m[1]);
  const prefix = (m[2] ?? "").toLowerCase();
  const unit = m[3];
  // "b" alone is a bit and "B" a byte (IEC 80000-13); spelled out, case does not matter.
  const bits = unit !== undefined && (unit === "b" || /^bits?$/i.test(unit));
  if (unit === undefined && prefix !== "") return { ok: false, reason: `prefix without a unit (bit or B): ${JSON.stringify(text)}` };
  const factor = PREFIX[prefix];
  if (factor === undefined) return { ok: false, reason: `unknown prefix ${JSON.stringify(m[2])}` };
  const bytesPerSecond = (value * factor) / (bits ? 8 : 1);
  return checked(bytesPerSecond, `${formatNumber(bytesPerSecond)} B/s`);
}

function checked(bytesPerSecond: number, label: string): ParsedRate {
  if (!Number.isFinite(bytesPerSecond)) return { ok: false, reason: "rate must be a finite number" };
  if (!(bytesPerSecond > 0)) return { ok: false, reason: "rate must be greater than zero" };
  if (bytesPerSecond > MAX_BYTES_PER_SECOND) return { ok: false, reason: "rate above 1 TB/s" };
  return { ok: true, bytesPerSecond, label };
}

function formatNumber(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Number(n.toFixed(3)));
}
