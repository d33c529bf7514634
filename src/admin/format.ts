/** How the admin page prints numbers and times (page.ts and mirror-page.ts). */
export const bytes = (n: number) => {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) [v, i] = [v / 1024, i + 1];
  return `${i ? v.toFixed(1) : v} ${units[i]}`;
};
export const pct = (r: number | null) => (r === null ? "–" : `${(r * 100).toFixed(1)} %`);
export const ago = (at: number | null, now: number) => (at ? `${Math.max(0, Math.round((now - at) / 1000))} s ago` : "never");
export const answers = (n: number) => `${n} answer${n === 1 ? "" : "s"}`;
export const time = (at: number) => new Date(at).toISOString().replace("T", " ").slice(0, 19);
