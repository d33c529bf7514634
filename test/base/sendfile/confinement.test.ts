import { afterEach, describe, expect, it, vi } from "vitest";
import fc from "fast-check";
import { r2Key, resolveName } from "../../../src/proxy/sendfile/root";
import { ConfigError } from "../../../src/config/fields";
import { createSendfile } from "../../../src/proxy/sendfile/sendfile";
import { parseSendfileRoot } from "../../../src/proxy/sendfile/root";
import { backend, baseEnv, bytes, seed, sendfile, uniquePrefix } from "./support";

describe("sendfile: a name never leaves the root", () => {
  afterEach(() => vi.restoreAllMocks());

  const SECRET = "outside the root: must never be served\n";

  async function layout() {
    const base = uniquePrefix("jail");
    await seed(`${base}/secret.txt`, SECRET);
    await seed(`${base}/public/ok.txt`, "inside\n");
    await seed(`${base}/public/a/ok.txt`, "inside a\n");
    return { base, root: `r2:${base}/public` };
  }

  it("refuses traversal in every spelling with 403, one plain line and a JSON warning, and reads nothing", async () => {
    const { root } = await layout();
    const attempts: Array<[string, RegExp]> = [
      ["/../secret.txt", /dot segment/],
      ["/a/../../secret.txt", /dot segment/],
      ["/a/./../../secret.txt", /dot segment/],
      ["/%2e%2e/secret.txt", /dot segment/],
      ["/%2E%2e/secret.txt", /dot segment/],
      ["/.%2e/secret.txt", /dot segment/],
      ["/./ok.txt", /dot segment/],
      // ";params" do not hide a dot segment (Tomcat and Jetty strip them before normalising).
      ["/..;/secret.txt", /dot segment/],
      ["/a/..;x=1/..;/secret.txt", /dot segment/],
      ["/%2e%2e;/secret.txt", /dot segment/],
      ["/..%3B/secret.txt", /dot segment/],
      ["/.;jsessionid=1/../secret.txt", /dot segment/],
      ["/.%3bp/ok.txt", /dot segment/],
      ["/..%2fsecret.txt", /encoded slash/],
      ["/a%2F..%2F..%2Fsecret.txt", /encoded slash/],
      ["/..\\secret.txt", /backslash/],
      ["/a\\..\\..\\secret.txt", /backslash/],
      ["/%5c..%5csecret.txt", /backslash/],
      ["/ok.txt%00.png", /control character/],
      ["/%c0%ae%c0%ae/secret.txt", /invalid UTF-8/],
      ["/%zz/secret.txt", /malformed percent-encoding/],
      ["../secret.txt", /must start with '\/'/],
      ["secret.txt", /must start with '\/'/],
      ["http://evil.example/secret.txt", /must start with '\/'/],
      ["", /empty file name/],
      ["/a/", /names a directory/],
    ];
    for (const [value, reason] of attempts) {
      for (const header of ["x-sendfile", "x-accel-redirect"]) {
        const { res, warnings } = await sendfile({ root }, backend({ [header]: value }));
        const text = await res.text();
        expect(res.status, `${header}: ${value}`).toBe(403);
        expect(text).toMatch(/^sendfile refused: [^\n]+\n$/);
        expect(text).toMatch(reason);
        expect(text).not.toContain(SECRET.trim());
        expect(res.headers.has(header)).toBe(false);
        expect(warnings).toEqual([{ level: "warn", event: "sendfile-refused", header, value, reason: expect.stringMatching(reason), method: "GET", path: "/download/file" }]);
      }
    }
  });

  it("reads absolute and double-encoded names under the root, like a chroot: not found, never the outside file", async () => {
    const { base, root } = await layout();
    for (const value of [`/${base}/secret.txt`, "/etc/passwd", "//secret.txt/..", "/%252e%252e/secret.txt", "//evil.example/secret.txt"]) {
      const { res, warnings } = await sendfile({ root }, backend({ "x-sendfile": value }));
      const body = await res.text();
      expect(body).not.toContain(SECRET.trim());
      if (value === "//secret.txt/..") {
        expect(res.status).toBe(403);
        continue;
      }
      expect(res.status, value).toBe(404);
      expect(warnings).toEqual([]);
    }
    // Repeated slashes merge (nginx merge_slashes): "//a//ok.txt" is a/ok.txt under the root.
    const { res } = await sendfile({ root }, backend({ "x-sendfile": "//a//ok.txt" }));
    expect(await res.text()).toBe("inside a\n");
  });

  it("property: any name either resolves to a key under the root or is refused with a reason, never throws", () => {
    const unit = fc.constantFrom("a", "/", ".", ";", "%", "2", "e", "E", "3", "b", "B", "f", "c", "0", "\\", "é", "\u0000");
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 40 }), (tail) => {
        const name = resolveName("/" + tail);
        if (!name.ok) {
          expect(name.reason).toMatch(/^[^\n]+$/);
          return;
        }
        const key = r2Key({ kind: "r2", prefix: "jail" }, name);
        expect(key.startsWith("jail/")).toBe(true);
        for (const seg of key.slice("jail/".length).split("/")) expect([".", ".."]).not.toContain(seg.split(";")[0]);
      }),
      { numRuns: 2000 },
    );
  });

  it("logs a refusal as one sendfile.refused line on console.warn by default", async () => {
    const { root } = await layout();
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const req = new Request("http://base.test/app/download?id=7", { headers: { "cf-ray": "8f1b2c3d4e5f6a7b-FRA" } });
    const res = await createSendfile({ allow: true, root })(req, backend({ "x-accel-redirect": "/%2e%2e/secret.txt" }), baseEnv);
    expect(res.status).toBe(403);
    await res.text();
    expect(warn).toHaveBeenCalledTimes(1);
    const line = warn.mock.calls[0]?.[0] as string;
    expect(JSON.parse(line)).toEqual({ level: "warn", msg: "sendfile.refused", requestId: "8f1b2c3d4e5f6a7b-FRA", worker: null, header: "x-accel-redirect", value: "/%2e%2e/secret.txt", reason: "dot segment in path", method: "GET", path: "/app/download" });
  });

  it("refuses with 502 when the backend names different files in two fields; the same file in both is fine", async () => {
    const { root } = await layout();
    const two = await sendfile({ root }, backend({ "x-sendfile": "/ok.txt", "x-accel-redirect": "/a/ok.txt" }));
    expect(two.res.status).toBe(502);
    expect(await two.res.text()).toBe("sendfile refused: the backend named different files in different fields\n");
    expect(two.warnings).toHaveLength(1);
    const same = await sendfile({ root }, backend({ "x-sendfile": "/ok.txt", "x-accel-redirect": "/ok.txt" }));
    expect(await same.res.text()).toBe("inside\n");
  });

  it("when not allowed on the route: strips the control fields and passes the backend's answer through unchanged", async () => {
    const { root } = await layout();
    for (const value of ["/ok.txt", "/../secret.txt"]) {
      const upstream = backend({ "x-sendfile": value, "x-accel-redirect": value, "x-accel-expires": "60", "x-lighttpd-send-file": value, "content-type": "text/html", "x-app": "kept" }, "<p>backend page</p>", 202);
      const { res, warnings } = await sendfile({ root, allow: false }, upstream);
      expect(res.status).toBe(202);
      expect(await res.text()).toBe("<p>backend page</p>");
      for (const h of ["x-sendfile", "x-accel-redirect", "x-accel-expires", "x-lighttpd-send-file"]) expect(res.headers.has(h)).toBe(false);
      expect(res.headers.get("content-type")).toBe("text/html");
      expect(res.headers.get("x-app")).toBe("kept");
      expect(warnings).toEqual([]);
    }
  });

  it("leaves an answer without control fields untouched (the same Response)", async () => {
    const upstream = backend({ "content-type": "text/plain" }, "plain backend");
    const { res } = await sendfile({ root: "r2:x" }, upstream);
    expect(res).toBe(upstream);
    expect(new TextDecoder().decode(await bytes(res))).toBe("plain backend");
  });

  it("checks the root when the handler is created, naming sendfile.root", () => {
    for (const bad of ["r2:", "r2:/", "r2:a/../b", "r2:a/..;x/b", "r2:a//b", "origin:/a/..;/b", "r2:a\\b", "s3:bucket", "/files", "origin:relative", "origin:/a/../b", "origin:/a%2fb", "origin:/a?x"]) {
      expect(() => createSendfile({ allow: true, root: bad }), bad).toThrow(ConfigError);
      expect(() => parseSendfileRoot(bad)).toThrow(/^invalid config sendfile\.root: /);
    }
    expect(parseSendfileRoot("r2:/files/")).toEqual({ kind: "r2", prefix: "files" });
    expect(parseSendfileRoot("origin:")).toEqual({ kind: "origin", prefix: "" });
    expect(parseSendfileRoot("origin:/protected/")).toEqual({ kind: "origin", prefix: "/protected" });
  });
});
