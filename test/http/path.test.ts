import { describe, it, expect } from "vitest";
import fc from "fast-check";
import { canonicalRequestPath, MAX_PATH_BYTES } from "../../src/http/path";

const ok = (url: string) => {
  const r = canonicalRequestPath(url);
  if (!r.ok) throw new Error(`expected ok for ${url}: ${r.reason}`);
  return r;
};
const reason = (url: string): string => {
  const r = canonicalRequestPath(url);
  return r.ok ? "ok" : r.reason;
};

describe("canonicalRequestPath", () => {
  it("splits path and raw query", () => {
    expect(ok("http://h/a%20b/c.iso?x=1")).toEqual({ ok: true, path: "/a%20b/c.iso", query: "x=1" });
    expect(ok("http://h/a?x=%2F&y=../z")).toMatchObject({ path: "/a", query: "x=%2F&y=../z" });
    expect(ok("http://h/a?")).toMatchObject({ path: "/a", query: "" });
    expect(ok("https://user@h:8443/a#frag")).toMatchObject({ path: "/a", query: "" });
    expect(ok("http://h")).toMatchObject({ path: "/", query: "" });
    expect(ok("http://h?q")).toMatchObject({ path: "/", query: "q" });
    expect(ok("/origin/form?q")).toMatchObject({ path: "/origin/form", query: "q" });
  });

  it("canonicalises percent-encoding", () => {
    expect(ok("http://h/a%41").path).toBe("/aA");
    expect(ok("http://h/aA").path).toBe(ok("http://h/a%41").path);
    expect(ok("http://h/%7e%2D%2e_").path).toBe("/~-._");
    expect(ok("http://h/a%3a%40%21%24%26%27%28%29%2a%2b%2c%3b%3d").path).toBe("/a:@!$&'()*+,;=");
    expect(ok("http://h/a b\"<>").path).toBe("/a%20b%22%3C%3E");
    expect(ok("http://h/%c3%a9t%C3%A9").path).toBe("/%C3%A9t%C3%A9");
    expect(ok("http://h/été").path).toBe("/%C3%A9t%C3%A9");
    expect(ok("http://h/%25").path).toBe("/%25");
    expect(ok("http://h/%3F%23").path).toBe("/%3F%23");
    expect(ok("http://h/%F0%9F%98%80").path).toBe("/%F0%9F%98%80");
  });

  it("merges slashes and keeps a trailing slash", () => {
    expect(ok("http://h//a///b//").path).toBe("/a/b/");
    expect(ok("http://h/").path).toBe("/");
    expect(ok("http://h//").path).toBe("/");
    expect(ok("http://h/a/").path).toBe("/a/");
  });

  it("rejects dot segments in every spelling", () => {
    for (const p of [
      "/a/../b", "/..", "/.", "/a/.", "/a/./b", "/%2e%2e/x", "/%2E%2e/x", "/.%2E/x", "/%2e/x", "/a/..//", "/a//../",
    ]) {
      expect(reason("http://h" + p), p).toBe("dot segment in path");
    }
    expect(ok("http://h/.../..a/.b/a..").path).toBe("/.../..a/.b/a..");
    expect(ok("http://h/%252e%252e").path).toBe("/%252e%252e");
  });

  it("rejects dot segments carrying ;params in every spelling (Tomcat/Jetty strip them before normalising)", () => {
    for (const p of [
      "/app/..;/x", "/..;", "/a/..;x=1/b", "/.;jsessionid=1/x", "/a/.;", "/%2e%2e;/x", "/%2E.;p/x", "/..%3B/x", "/..%3b/x",
      "/.%3bjsessionid=1", "/%2e%3B", "/a/..;/..;/etc", "/a/..;;/b", "/a/..;/", "http://h/x/..;/y?q=1",
    ]) {
      expect(reason(p.startsWith("/") ? "http://h" + p : p), p).toBe("dot segment in path");
    }
    // Only the part before the first ";" decides: these are ordinary names.
    expect(ok("http://h/a;/...;x/;../..a;b/a..;/.b;c").path).toBe("/a;/...;x/;../..a;b/a..;/.b;c");
    expect(ok("http://h/x%3B..").path).toBe("/x;..");
  });

  it("rejects encoded slash, backslash, control characters", () => {
    expect(reason("http://h/a%2fb")).toBe("encoded slash (%2F) in path");
    expect(reason("http://h/a%2Fb")).toBe("encoded slash (%2F) in path");
    expect(reason("http://h/a\\b")).toBe("backslash in path");
    expect(reason("http://h/a%5cb")).toBe("backslash in path");
    expect(reason("http://h/a%5C..")).toBe("backslash in path");
    for (const c of ["%00", "%01", "%1f", "%1F", "%7f", "\u0000", "\t", "\u007f"]) {
      expect(reason(`http://h/a${c}b`), c).toBe("control character in path");
    }
  });

  it("rejects malformed percent-encoding and invalid UTF-8", () => {
    for (const p of ["/%", "/%4", "/%zz", "/a%g0", "/%%41"]) {
      expect(reason("http://h" + p), p).toBe("malformed percent-encoding in path");
    }
    for (const p of ["/%ff", "/%c3", "/%c0%ae%c0%ae", "/%e0%80%af", "/%ed%a0%80", "/\ud800x"]) {
      expect(reason("http://h" + p), p).toBe("invalid UTF-8 in path");
    }
  });

  it("rejects a path not starting with '/' and over-long paths", () => {
    expect(reason("a/b")).toBe("path must start with '/'");
    expect(reason("*")).toBe("path must start with '/'");
    const long = "/" + "a".repeat(MAX_PATH_BYTES);
    expect(reason("http://h" + long)).toBe(`path longer than ${MAX_PATH_BYTES} bytes`);
    expect(ok("http://h/" + "a".repeat(MAX_PATH_BYTES - 1)).path.length).toBe(MAX_PATH_BYTES);
    expect(reason("http://h/" + "é".repeat(400))).toBe(`path longer than ${MAX_PATH_BYTES} bytes`);
  });

  it("properties: idempotent, stable under re-encoding, never throws", () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const r = canonicalRequestPath("http://h/" + s);
        if (!r.ok) return;
        const again = canonicalRequestPath("http://h" + r.path);
        expect(again).toEqual({ ok: true, path: r.path, query: "" });
        expect(r.path.split("/").some((seg) => seg === "." || seg === "..")).toBe(false);
        expect(r.path).not.toMatch(/\/\/|\\|%2F|%5C|%[01][0-9A-F]|%7F/i);
      }),
    );
    // Paths made of the pieces that matter here: dots, ";", their encodings, slashes.
    const tricky = fc.array(
      fc.constantFrom(".", "..", ";", "%2e", "%2E", "%3b", "%3B", "/", "//", "a", "%", "%41", "é", "\\", "%00", "x=1", "%252e"),
      { maxLength: 30 },
    );
    fc.assert(
      fc.property(tricky, fc.boolean(), (parts, abs) => {
        const raw = "/" + parts.join("");
        const r = canonicalRequestPath(abs ? "http://h" + raw : raw); // never throws
        if (!r.ok) {
          expect(r.status).toBe(400);
          expect(r.reason).toMatch(/^[^\n]+$/);
          return;
        }
        expect(canonicalRequestPath(r.path)).toEqual({ ok: true, path: r.path, query: "" });
        for (const seg of r.path.split("/")) expect([".", ".."]).not.toContain(seg.split(";")[0]);
        expect(new TextEncoder().encode(r.path).byteLength).toBeLessThanOrEqual(MAX_PATH_BYTES);
      }),
      { numRuns: 3000 },
    );
    const segment = fc.string({ unit: fc.constantFrom(..."aZ09-._~!$&'()*+,;=:@ é/%") });
    fc.assert(
      fc.property(segment, (seg) => {
        const plain = canonicalRequestPath("http://h/" + seg);
        // Letters inside an existing "%XX" stay as they are: encoding them would change the escape.
        const encoded = canonicalRequestPath("http://h/" + seg.replace(/%..|[a-z]/g, (c) => (c.length > 1 ? c : "%" + c.charCodeAt(0).toString(16))));
        expect(encoded).toEqual(plain);
      }),
    );
  });
});

describe("canonicalRequestPath fast path", () => {
  it("returns plain ASCII paths unchanged and agrees with the full decoder (idempotent)", () => {
    const seg = fc.stringMatching(/^[A-Za-z0-9\-._~!$&'()*+,;=:@%]{1,12}$/);
    fc.assert(
      fc.property(fc.array(seg, { minLength: 1, maxLength: 6 }), fc.boolean(), (segs, slash) => {
        const raw = "/" + segs.join("/") + (slash ? "/" : "");
        const once = canonicalRequestPath(`http://h${raw}`);
        if (!once.ok) return true;
        const twice = canonicalRequestPath(`http://h${once.path}`);
        return twice.ok && twice.path === once.path;
      }),
      { numRuns: 500 },
    );
  });
});
