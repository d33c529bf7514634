// The pure rules of src/mirrors/verdict.ts: a copy is current only when proven so.
import { describe, expect, it } from "vitest";
import { judgeCopy, versionOfHead, type FileVersion } from "../../src/mirrors/verdict";

const DATE = "Tue, 14 Nov 2023 22:13:20 GMT";
const origin: FileVersion = { size: 100, lastModified: DATE, etag: '"o-1"', sha256: "ab".repeat(32) };
const copy = (over: Partial<FileVersion>): FileVersion => ({ size: 100, lastModified: DATE, etag: '"m-1"', sha256: null, ...over });

describe("judgeCopy", () => {
  it("names missing, failing and unverifiable copies", () => {
    expect(judgeCopy(origin, 404, copy({}), false).verdict).toBe("missing");
    expect(judgeCopy(origin, 410, copy({}), false).verdict).toBe("missing");
    expect(judgeCopy(origin, 503, copy({}), false)).toEqual({ verdict: "error", detail: "HTTP 503" });
    expect(judgeCopy(origin, 301, copy({}), false).verdict).toBe("error");
    expect(judgeCopy(origin, 200, copy({ size: null }), false).verdict).toBe("error");
    expect(judgeCopy(origin, 200, copy({ lastModified: null }), false).verdict).toBe("error");
    expect(judgeCopy({ ...origin, lastModified: null, sha256: null }, 200, copy({}), false).verdict).toBe("error");
  });

  it("size first, then a digest both sides have, then the origin's ETags when the mirror shares them, then dates", () => {
    expect(judgeCopy(origin, 200, copy({ size: 99 }), false).verdict).toBe("outdated");
    expect(judgeCopy(origin, 200, copy({ sha256: "cd".repeat(32) }), false).verdict).toBe("outdated");
    expect(judgeCopy(origin, 200, copy({ sha256: origin.sha256, lastModified: null }), false).verdict).toBe("current");
    expect(judgeCopy(origin, 200, copy({}), true).verdict).toBe("outdated"); // other ETag, same kind of server
    expect(judgeCopy(origin, 200, copy({}), false).verdict).toBe("current"); // own ETags: not compared
    expect(judgeCopy(origin, 200, copy({ lastModified: "Tue, 14 Nov 2023 22:13:19 GMT" }), false).verdict).toBe("outdated");
    expect(judgeCopy(origin, 200, copy({ lastModified: "Wed, 15 Nov 2023 00:00:00 GMT" }), false).verdict).toBe("current");
  });

  it("reads Content-Length, Last-Modified, ETag and a SHA-256 from Repr-Digest or the older Digest", () => {
    const b64 = btoa(String.fromCharCode(...new Array(32).fill(0xab)));
    const h = new Headers({ "content-length": "100", "last-modified": DATE, etag: '"x"', digest: `md5=abc, SHA-256=${b64}` });
    expect(versionOfHead(h)).toEqual({ size: 100, lastModified: DATE, etag: '"x"', sha256: "ab".repeat(32) });
    expect(versionOfHead(new Headers({ "repr-digest": `sha-256=:${b64}:` })).sha256).toBe("ab".repeat(32));
    expect(versionOfHead(new Headers({ "content-length": "1e3" })).size).toBeNull();
  });
});
