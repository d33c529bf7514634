import { afterEach, describe, expect, it, vi } from "vitest";
import { log, logFailedAnswer } from "../../src/platform/log";

/** Lines written through the real console while `run` runs, with the console method that wrote each. */
function captured(run: () => void): { method: string; line: Record<string, unknown>; raw: string }[] {
  const spies = (["log", "warn", "error"] as const).map((m) => ({ m, spy: vi.spyOn(console, m).mockImplementation(() => {}) }));
  try {
    run();
    return spies.flatMap(({ m, spy }) => spy.mock.calls.map(([l]) => ({ method: m, raw: String(l), line: JSON.parse(String(l)) as Record<string, unknown> })));
  } finally {
    for (const { spy } of spies) spy.mockRestore();
  }
}

afterEach(() => vi.restoreAllMocks());

describe("log (platform/log.ts)", () => {
  it("writes one JSON line of a stable shape, level on the matching console method", () => {
    const lines = captured(() => {
      log.error("a.failed", { requestId: "8f1b2c3d4e5f6a7b-FRA", worker: "node-a", path: "/x" });
      log.warn("a.refused");
      log.info("a.changed", { n: 3 });
    });
    expect(lines.map((l) => [l.method, Object.keys(l.line).slice(0, 4)])).toEqual([
      ["log", ["level", "msg", "requestId", "worker"]],
      ["warn", ["level", "msg", "requestId", "worker"]],
      ["error", ["level", "msg", "requestId", "worker"]],
    ]);
    expect(lines.find((l) => l.method === "error")!.line).toEqual({ level: "error", msg: "a.failed", requestId: "8f1b2c3d4e5f6a7b-FRA", worker: "node-a", path: "/x" });
    expect(lines.find((l) => l.method === "warn")!.line).toEqual({ level: "warn", msg: "a.refused", requestId: null, worker: null });
    expect(lines.find((l) => l.method === "log")!.line).toEqual({ level: "info", msg: "a.changed", requestId: null, worker: null, n: 3 });
    for (const l of lines) expect(l.raw).not.toContain("\n");
  });

  it("redacts credential-named fields at any depth, whatever they hold", () => {
    const [l] = captured(() =>
      log.info("x", { token: "s3cret-1", adminToken: "s3cret-2", nested: { Cookie: "offload_admin=s3cret-3", list: [{ authorization: "Bearer s3cret-4" }] }, csrf: "s3cret-5", signingKeys: "k1:s3cret-6", key: "/iso/a.iso" }),
    );
    expect(l!.raw).not.toMatch(/s3cret/);
    expect(l!.line).toMatchObject({ token: "[redacted]", adminToken: "[redacted]", nested: { Cookie: "[redacted]", list: [{ authorization: "[redacted]" }] }, csrf: "[redacted]", signingKeys: "[redacted]", key: "/iso/a.iso" });
  });

  it("masks credentials inside any string: signed query members, URL user-info, Authorization parameters", () => {
    const [l] = captured(() =>
      log.error("x", {
        url: "http://node.test/iso/a.iso?x=1&offload_token=v2.s3cret-a&X-Amz-Signature=s3cret-b#f",
        backend: "https://user:s3cret-c@backend.test/app",
        error: "TypeError: fetch failed (Authorization: Bearer s3cret-d) and Basic s3cret-e",
        requestId: "weird?token=s3cret-f",
      }),
    );
    expect(l!.raw).not.toMatch(/s3cret/);
    expect(l!.line["url"]).toBe("http://node.test/iso/a.iso?x=1&offload_token=[redacted]&X-Amz-Signature=[redacted]#f");
    expect(l!.line["backend"]).toBe("https://[redacted]@backend.test/app");
  });

  it("never writes a Headers object, and the line's own keys cannot be overwritten by a field", () => {
    const [l] = captured(() => log.warn("x", { headers: new Headers({ cookie: "a=s3cret" }), level: "info", msg: "other" }));
    expect(l!.raw).not.toContain("s3cret");
    expect(l!.line).toMatchObject({ level: "warn", msg: "x", headers: "[headers not logged]" });
  });

  it("answer.error: final 5xx answers, with the id the client was shown; not 4xx, not 503 + Retry-After", () => {
    const req = new Request("http://n.test/a?offload_token=s3cret", { headers: { "cf-ray": "8f1b2c3d4e5f6a7b-FRA" } });
    const lines = captured(() => {
      logFailedAnswer({ req, res: new Response("x", { status: 502, headers: { "x-request-id": "shown-id", "cache-status": "n; fwd=miss" } }), worker: "node-a", path: "/a" });
      logFailedAnswer({ req, res: new Response("x", { status: 500 }), worker: "node-a", path: "/a" });
      logFailedAnswer({ req, res: new Response("x", { status: 404 }), worker: "node-a", path: "/a" });
      logFailedAnswer({ req, res: new Response("x", { status: 503, headers: { "retry-after": "2" } }), worker: "node-a", path: "/a" });
    });
    expect(lines.map((l) => l.line)).toEqual([
      { level: "error", msg: "answer.error", requestId: "shown-id", worker: "node-a", method: "GET", path: "/a", status: 502, cacheStatus: "n; fwd=miss" },
      { level: "error", msg: "answer.error", requestId: "8f1b2c3d4e5f6a7b-FRA", worker: "node-a", method: "GET", path: "/a", status: 500, cacheStatus: null },
    ]);
  });
});
