// Issue #11 (Location finding) for the node's pass-through (src/node/pass-through.ts):
// an origin's redirect reaches the client with a path-absolute Location (RFC 3986 §4.2),
// never the origin's own address nor another host reached by a spelling. The real static
// origin answers the redirects (its /behave control).
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { behave, putFile, uniquePath } from "../support/origin";

const origin = new URL((env as unknown as { ORIGIN_URL: string }).ORIGIN_URL);

async function redirectedTo(location: string): Promise<string | null> {
  const path = uniquePath("moved.bin");
  await putFile(path, 1000);
  await behave(path, { status: 301, location });
  // redirect: "manual", or the test's own fetch would follow the node's answer.
  const req = new Request(`http://node.test${path}`, { headers: { "cf-connecting-ip": "198.51.100.7" }, redirect: "manual" });
  const res = await (exports as unknown as { default: Fetcher }).default.fetch(req);
  const body = await res.text();
  expect(res.status, `${location}: ${body} ${res.headers.get("cache-status")}`).toBe(301);
  return res.headers.get("location");
}

describe("node pass-through: the origin's Location", () => {
  it("the origin's own URL (any port or scheme of its host) becomes a path on the node", async () => {
    expect(await redirectedTo(`${origin.origin}/new/place?x=1`)).toBe("/new/place?x=1");
    expect(await redirectedTo(`http://${origin.hostname}:1/internal/x`)).toBe("/internal/x");
    expect(await redirectedTo(`https://${origin.host}/y`)).toBe("/y");
  });

  it("scheme-relative and backslash spellings of another host become a path on the node", async () => {
    for (const loc of ["//evil.example/x", "/\\evil.example/x", "http:\\\\evil.example/x", "\\\\evil.example/x"]) {
      const location = await redirectedTo(loc);
      expect(new URL(location!, "https://node.example/page").host, `${loc} -> ${location}`).toBe("node.example");
      expect(location).toBe("/x");
    }
  });

  it("a relative reference stays a path; an explicit URL of another host is kept (the origin named it on purpose)", async () => {
    expect(await redirectedTo("/elsewhere")).toBe("/elsewhere");
    expect(await redirectedTo("https://sso.example.net/login")).toBe("https://sso.example.net/login");
  });
});
