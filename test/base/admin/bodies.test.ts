// Issue #11 L6: every admin POST route answers a body it cannot read with a one-line 4xx
// (400 malformed, 413 too large, 415 wrong type), never 500.
import { describe, expect, it } from "vitest";
import { baseFetch, type BaseRequest } from "../support";

const TOKEN = "admin-test-token-0123456789";
const bearer = { authorization: `Bearer ${TOKEN}` };
const basicAuth = { authorization: `Basic ${btoa(`ops:${TOKEN}`)}` };
const SAME_ORIGIN = { origin: "http://base.test" };

type Kind = "form" | "json";
const ROUTES: { path: string; kind: Kind; headers: Record<string, string> }[] = [
  { path: "/_admin/login", kind: "form", headers: SAME_ORIGIN },
  { path: "/_admin/members", kind: "form", headers: basicAuth },
  { path: "/_admin/purge", kind: "form", headers: basicAuth },
  { path: "/_admin/logout", kind: "form", headers: basicAuth },
  { path: "/_admin/api/farms/farm_one/members/web1", kind: "json", headers: bearer },
  { path: "/_admin/api/purge", kind: "json", headers: bearer },
];

const MULTIPART = "multipart/form-data; boundary=AaB03x";
const part = (name: string, value: string) => `--AaB03x\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
const big = "x".repeat(17 * 1024);
const utf8 = new TextEncoder();

/** A body that only arrives as a stream: no Content-Length, the limit must hold while reading. */
function streamed(text: string): ReadableStream<Uint8Array> {
  const bytes = utf8.encode(text);
  return new ReadableStream({
    start(controller) {
      for (let i = 0; i < bytes.length; i += 1024) controller.enqueue(bytes.slice(i, i + 1024));
      controller.close();
    },
  });
}

interface Case {
  name: string;
  kinds: Kind[];
  status: 400 | 413 | 415;
  contentType: string | null;
  body: () => BodyInit;
}
const CASES: Case[] = [
  { name: "multipart whose parts use another boundary", kinds: ["form"], status: 400, contentType: MULTIPART, body: () => `--other\r\nContent-Disposition: form-data; name="token"\r\n\r\nx\r\n--other--\r\n` },
  { name: "multipart without a boundary parameter", kinds: ["form"], status: 400, contentType: "multipart/form-data", body: () => `${part("token", "x")}--AaB03x--\r\n` },
  { name: "truncated multipart", kinds: ["form"], status: 400, contentType: MULTIPART, body: () => `--AaB03x\r\nContent-Disposition: form-data; name="token"\r\n\r\nabc` },
  { name: "multipart with a part without a name", kinds: ["form"], status: 400, contentType: MULTIPART, body: () => `--AaB03x\r\nContent-Type: text/plain\r\n\r\nabc\r\n--AaB03x--\r\n` },
  { name: "urlencoded with a broken percent escape", kinds: ["form"], status: 400, contentType: "application/x-www-form-urlencoded", body: () => "token=%E0%A4%A&csrf=%" },
  { name: "urlencoded with bytes that are not UTF-8", kinds: ["form"], status: 400, contentType: "application/x-www-form-urlencoded", body: () => new Uint8Array([0x74, 0x3d, 0xff, 0xfe]) },
  { name: "a field given twice", kinds: ["form"], status: 400, contentType: "application/x-www-form-urlencoded", body: () => "csrf=a&csrf=b&token=c&token=d" },
  { name: "JSON that does not parse", kinds: ["json"], status: 400, contentType: "application/json", body: () => '{"state": ' },
  { name: "JSON that is not UTF-8", kinds: ["json"], status: 400, contentType: "application/json", body: () => new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]) },
  { name: "JSON that is not an object", kinds: ["json"], status: 400, contentType: "application/json", body: () => "[1,2]" },
  { name: "text/plain", kinds: ["form", "json"], status: 415, contentType: "text/plain", body: () => "token=x" },
  { name: "no Content-Type", kinds: ["form", "json"], status: 415, contentType: null, body: () => "token=x" },
  { name: "JSON to a form", kinds: ["form"], status: 415, contentType: "application/json", body: () => '{"token":"x"}' },
  { name: "a form to the JSON API", kinds: ["json"], status: 415, contentType: MULTIPART, body: () => `${part("state", "enabled")}--AaB03x--\r\n` },
  { name: "an oversize urlencoded body", kinds: ["form"], status: 413, contentType: "application/x-www-form-urlencoded", body: () => `token=${big}` },
  { name: "an oversize multipart body, streamed without Content-Length", kinds: ["form"], status: 413, contentType: MULTIPART, body: () => streamed(`${part("token", big)}--AaB03x--\r\n`) },
  { name: "an oversize JSON body, streamed without Content-Length", kinds: ["json"], status: 413, contentType: "application/json", body: () => streamed(JSON.stringify({ state: big })) },
];

describe("admin: bodies that cannot be read (issue #11 L6)", () => {
  for (const route of ROUTES) {
    for (const c of CASES.filter((c) => c.kinds.includes(route.kind))) {
      it(`${route.path}: ${c.name} -> ${c.status}`, async () => {
        const headers: Record<string, string> = { ...route.headers };
        if (c.contentType !== null) headers["content-type"] = c.contentType;
        // A distinct client per case: failed sign-ins must not add up across cases.
        const init: BaseRequest = { method: "POST", headers, body: c.body(), ip: `203.0.113.${(ROUTES.indexOf(route) * CASES.length + CASES.indexOf(c)) % 250}` };
        const res = await baseFetch(route.path, init);
        const text = await res.text();
        expect(res.status, text).toBe(c.status);
        expect(res.headers.get("content-type")).toBe("text/plain; charset=utf-8");
        expect(text).toMatch(/^[^\n]+\n$/);
        expect(res.headers.get("set-cookie")).toBeNull();
      });
    }
  }

  it("well-formed forms still work: urlencoded and multipart sign-in, with and without a charset", async () => {
    for (const [contentType, body] of [
      ["application/x-www-form-urlencoded", `token=${encodeURIComponent(TOKEN)}`],
      ["application/x-www-form-urlencoded; charset=UTF-8", `token=${encodeURIComponent(TOKEN)}`],
      [MULTIPART, `${part("token", TOKEN)}--AaB03x--\r\n`],
      ['multipart/form-data; boundary="AaB03x"', `${part("token", TOKEN)}--AaB03x--\r\n`],
    ] as const) {
      const res = await baseFetch("/_admin/login", { method: "POST", headers: { ...SAME_ORIGIN, "content-type": contentType }, body, ip: "203.0.113.251" });
      expect(res.status, contentType).toBe(303);
      expect(res.headers.get("set-cookie")).toMatch(/^offload_admin=/);
    }
  });
});
