/**
 * HTTP-date (RFC 9110 §5.6.7): parsing of the three formats a recipient must
 * accept (IMF-fixdate, obsolete RFC 850, asctime) and generation of
 * IMF-fixdate, the only one a sender may generate.
 *
 * Parsing is strict about the grammar (case-sensitive names, exact spacing,
 * "GMT") but, like nginx, does not check that the day name agrees with the
 * date. Values are whole seconds, returned as epoch milliseconds.
 */

const DAY_SHORT = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"] as const;
const MONTHS = [
  "Jan", "Feb", "Mar", "Apr", "May", "Jun",
  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
] as const;

const DAY = "(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)";
const DAY_LONG = "(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)";
const MONTH = "(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)";
const TIME = "(\\d{2}):(\\d{2}):(\\d{2})";

/** IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT". */
const IMF_FIXDATE = new RegExp(`^${DAY}, (\\d{2}) ${MONTH} (\\d{4}) ${TIME} GMT$`);
/** rfc850-date: "Sunday, 06-Nov-94 08:49:37 GMT". */
const RFC850_DATE = new RegExp(`^${DAY_LONG}, (\\d{2})-${MONTH}-(\\d{2}) ${TIME} GMT$`);
/** asctime-date: "Sun Nov  6 08:49:37 1994". */
const ASCTIME_DATE = new RegExp(`^${DAY} ${MONTH} (\\d{2}| \\d) ${TIME} (\\d{4})$`);

interface DateParts {
  year: number;
  month: number; // 0-11
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
}

function toEpochMs(p: DateParts): number | undefined {
  if (p.day < 1 || p.day > daysInMonth(p.year, p.month)) return undefined;
  // nginx (ngx_parse_http_time) also rejects a leap second (60).
  if (p.hour > 23 || p.minute > 59 || p.second > 59) return undefined;
  const d = new Date(0);
  d.setUTCFullYear(p.year, p.month, p.day);
  d.setUTCHours(p.hour, p.minute, p.second, 0);
  const ms = d.getTime();
  return Number.isFinite(ms) ? ms : undefined;
}

function monthIndex(name: string | undefined): number {
  return MONTHS.findIndex((m) => m === name);
}

/**
 * RFC 9110 §5.6.7: a two-digit rfc850 year that would be more than 50 years in
 * the future means the most recent past year with those last two digits.
 */
function expandTwoDigitYear(yy: number, nowMs: number): number {
  const current = new Date(nowMs).getUTCFullYear();
  let year = Math.floor(current / 100) * 100 + yy;
  if (year > current + 50) year -= 100;
  return year;
}

/** Parses an HTTP-date (§5.6.7) to epoch milliseconds; undefined when invalid. */
export function parseHttpDate(s: string, nowMs: number = Date.now()): number | undefined {
  const text = s.trim();
  let m = IMF_FIXDATE.exec(text);
  if (m) {
    const [, day, mon, year, hh, mm, ss] = m;
    return toEpochMs({
      year: Number(year), month: monthIndex(mon), day: Number(day),
      hour: Number(hh), minute: Number(mm), second: Number(ss),
    });
  }
  m = RFC850_DATE.exec(text);
  if (m) {
    const [, day, mon, yy, hh, mm, ss] = m;
    return toEpochMs({
      year: expandTwoDigitYear(Number(yy), Number.isFinite(nowMs) ? nowMs : 0),
      month: monthIndex(mon), day: Number(day),
      hour: Number(hh), minute: Number(mm), second: Number(ss),
    });
  }
  m = ASCTIME_DATE.exec(text);
  if (m) {
    const [, mon, day, hh, mm, ss, year] = m;
    return toEpochMs({
      year: Number(year), month: monthIndex(mon), day: Number((day ?? "").trim()),
      hour: Number(hh), minute: Number(mm), second: Number(ss),
    });
  }
  return undefined;
}

function pad2(n: number): string {
  return String(n).padStart(2, "0");
}

/**
 * Formats epoch milliseconds as IMF-fixdate (§5.6.7), truncating to the
 * second. Non-finite input, which has no date, formats the epoch. Years are
 * clamped to 0000-9999, the range the grammar's 4DIGIT can express.
 */
export function formatHttpDate(ms: number): string {
  const base = new Date(0);
  base.setUTCFullYear(0, 0, 1); // Date.UTC would map year 0 to 1900
  const lowest = base.getTime();
  const highest = Date.UTC(9999, 11, 31, 23, 59, 59);
  const clamped = Number.isFinite(ms) ? Math.min(Math.max(ms, lowest), highest) : 0;
  const d = new Date(Math.floor(clamped / 1000) * 1000);
  const dayName = DAY_SHORT[d.getUTCDay()] ?? "Sun";
  const month = MONTHS[d.getUTCMonth()] ?? "Jan";
  const year = String(d.getUTCFullYear()).padStart(4, "0");
  return (
    `${dayName}, ${pad2(d.getUTCDate())} ${month} ${year} ` +
    `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} GMT`
  );
}
