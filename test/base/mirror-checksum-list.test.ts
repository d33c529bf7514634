// The pure parts of the scans: the sha256sum-format parser and the lag policy.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseChecksumList } from "../../src/mirrors/checksum-list";
import { lagBeyond, nextStatus, type MirrorStatus } from "../../src/mirrors/lag";

const A = "a".repeat(64);
const B = "0123456789ABCDEF".repeat(4);

describe("parseChecksumList (sha256sum format)", () => {
  it("reads text and binary mode lines, paths relative to the mirror's root", () => {
    const list = parseChecksumList(`${A}  ./iso/a.iso\n${B} *iso/b c.iso\r\n\n# comment\n${A}  /top.txt\n`);
    expect([...list.sha256]).toEqual([
      ["/iso/a.iso", A],
      ["/iso/b%20c.iso", B.toLowerCase()],
      ["/top.txt", A],
    ]);
    expect(list.rejected).toEqual([]);
  });

  it("rejects, with the line and why, what is not a checksum line or leaves the root", () => {
    const list = parseChecksumList([`${A}  ../etc/passwd`, `${A}  iso/../../x`, `${A.slice(1)}  short.iso`, `\\${A}  back\\\\slash`, `${A}  `, "garbage"].join("\n"));
    expect(list.sha256.size).toBe(0);
    expect(list.rejected.map((r) => r.line)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(list.rejected[0]!.reason).toContain("leaves the mirror's root");
    expect(list.rejected[3]!.reason).toBe("escaped file name");
  });

  it("any line sha256sum prints for a plain relative path is read back as that path and digest", () => {
    const segment = fc.stringMatching(/^[A-Za-z0-9._-]{1,12}$/).filter((s) => s !== "." && s !== "..");
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.array(segment, { minLength: 1, maxLength: 4 }), fc.stringMatching(/^[0-9a-f]{64}$/)), { maxLength: 30 }), (entries) => {
        const text = entries.map(([segs, hex]) => `${hex}  ./${segs.join("/")}`).join("\n");
        const list = parseChecksumList(text);
        const expected = new Map(entries.map(([segs, hex]) => [`/${segs.join("/")}`, hex]));
        expect(list.sha256).toEqual(expected);
        expect(list.rejected).toEqual([]);
      }),
    );
  });

  it("never throws and never yields a path outside the root, whatever the text", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), (text) => {
        const list = parseChecksumList(text);
        for (const path of list.sha256.keys()) {
          expect(path.startsWith("/")).toBe(true);
          expect(path.split("/")).not.toContain("..");
        }
        expect(list.rejected.length).toBeLessThanOrEqual(20);
      }),
    );
  });
});

describe("lag policy", () => {
  const limits = { maxLagFiles: 2, maxLagSeconds: 3600 };
  const on: MirrorStatus = { disabled: false, reason: "", since: 0 };
  const now = 10_000_000;

  it("is beyond the limits on too many files or too old a copy; 0 means no limit", () => {
    expect(lagBeyond({ files: 2, oldestSince: now - 1000 }, limits, now)).toBeNull();
    expect(lagBeyond({ files: 3, oldestSince: now }, limits, now)).toBe("3 files outdated or missing (limit 2)");
    expect(lagBeyond({ files: 1, oldestSince: now - 3601_000 }, limits, now)).toBe("a copy outdated or missing for 3601 s (limit 3600 s)");
    expect(lagBeyond({ files: 1000, oldestSince: 0 }, { maxLagFiles: 0, maxLagSeconds: 0 }, now)).toBeNull();
  });

  it("disables at once, and enables again only after a full pass begun after the disabling finds it within the limits", () => {
    const off = nextStatus(on, { lag: { files: 3, oldestSince: now }, limits, now, passStartedAt: null });
    expect(off).toEqual({ disabled: true, reason: "lagging: 3 files outdated or missing (limit 2)", since: now });
    const within = { files: 0, oldestSince: null };
    expect(nextStatus(off, { lag: within, limits, now: now + 1, passStartedAt: null })).toBe(off); // pass under way
    expect(nextStatus(off, { lag: within, limits, now: now + 1, passStartedAt: now - 1 })).toBe(off); // pass begun before
    expect(nextStatus(off, { lag: { files: 3, oldestSince: now }, limits, now: now + 2, passStartedAt: now })).toBe(off);
    expect(nextStatus(off, { lag: within, limits, now: now + 2, passStartedAt: now })).toEqual({ disabled: false, reason: "a full rescan found it within the lag limits", since: now + 2 });
    expect(nextStatus(on, { lag: within, limits, now, passStartedAt: now })).toBe(on);
  });
});
