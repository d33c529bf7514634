// Issue #11 H1 for the base's own pass-through to the origin (src/base/serve-locally.ts):
// the origin is only blamed for its own silence, and a client's upload fault is the
// client's (408 for a stall, 400 for a body that is not the one announced), exactly as
// on the proxy routes. The origin is a real echo backend (test/support/proxy-backends.mjs),
// which reads the whole request body before it answers; the static origin refuses POST.
import { describe, expect, it, vi, beforeEach, afterEach } from "vitest";
import { parseBaseConfig } from "../../../src/config/base-config";
import { baseWithVars } from "../support";
import { backend, backendUrl, echo, pacedBody as paced, resetBackends, sizedBody as fixed, stalledBody as stalled } from "./support";

/** `first` bytes, then an error: the client broke its upload off. */
function brokenOff(first: number): ReadableStream<Uint8Array> {
  let sent = false;
  return new ReadableStream<Uint8Array>({
    pull(c) {
      if (sent) return c.error(new Error("connection reset by the client"));
      sent = true;
      c.enqueue(new Uint8Array(first).fill(99));
    },
  });
}

/** The base whose origin is echo backend b0, no proxy routes: every POST is a pass-through. */
const VARS = { ORIGIN_URL: backendUrl(0), PROXY_ROUTES: "", ORIGIN_TIMEOUT_MS: "300", CLIENT_BODY_TIMEOUT_MS: "700" };
const UPLOAD = { method: "POST", headers: { "content-length": "1000", "content-type": "application/octet-stream" } };

/** The request through the base, its body read, with the log lines it wrote. */
async function logged(path: string, init: Parameters<typeof baseWithVars>[2]): Promise<{ res: Response; body: string; lines: string[] }> {
  const spy = vi.spyOn(console, "error");
  try {
    const res = await baseWithVars(VARS, path, init);
    const body = await res.text();
    return { res, body, lines: spy.mock.calls.map(([l]) => String(l)) };
  } finally {
    spy.mockRestore();
  }
}

describe("the base's pass-through: the client's upload faults are the client's (H1)", () => {
  beforeEach(resetBackends);
  afterEach(resetBackends);

  it("a stalled upload gets 408 after CLIENT_BODY_TIMEOUT_MS, not 504 after ORIGIN_TIMEOUT_MS, and is not logged as an origin failure", async () => {
    const started = Date.now();
    const { res, body, lines } = await logged("/form", { ...UPLOAD, body: stalled(10) });
    expect(res.status).toBe(408);
    expect(body).toBe("the request body stalled (nothing received for 700 ms)\n");
    expect(Date.now() - started).toBeGreaterThanOrEqual(650);
    expect(lines.filter((l) => l.includes('"msg":"base.origin-failed"'))).toEqual([]);
  });

  it("a body shorter than its Content-Length gets 400", async () => {
    const { res, body } = await logged("/form", { ...UPLOAD, body: fixed(10) });
    expect(res.status).toBe(400);
    expect(body).toBe("the request body ended after 10 of 1000 bytes (Content-Length)\n");
  });

  it("a body longer than its Content-Length gets 400", async () => {
    const { res, body } = await logged("/form", { method: "POST", headers: { "content-length": "10" }, body: fixed(1000) });
    expect(res.status).toBe(400);
    expect(body).toBe("the request body is longer than its Content-Length (10 bytes)\n");
  });

  it("an upload the client breaks off gets 400, not 502, and is not logged as an origin failure", async () => {
    const { res, body, lines } = await logged("/form", { ...UPLOAD, body: brokenOff(10) });
    expect(res.status).toBe(400);
    expect(body).toBe("the request body could not be read to its end\n");
    expect(lines.filter((l) => l.includes('"msg":"base.origin-failed"'))).toEqual([]);
  });

  it("an upload moving slowly for longer than ORIGIN_TIMEOUT_MS (each pause within CLIENT_BODY_TIMEOUT_MS) reaches the origin whole", async () => {
    const parts = ["one;", "two;", "three;", "four"];
    const res = await baseWithVars(VARS, "/slow", { method: "POST", body: paced(parts, 250) }); // ~1.25 s in all
    const seen = await echo(res);
    expect(seen.body).toBe(parts.join(""));
  });

  it("the origin's own silence after the whole body arrived is still the origin's: 504", async () => {
    await backend(0, "set", { delay: 2000 });
    const { res, body } = await logged("/form", { method: "POST", body: "name=value", headers: { "cf-ray": "8f1b2c3d4e5f6a7b-AMS" } });
    expect(res.status).toBe(504);
    expect(body).toBe("the origin did not answer in time (request id 8f1b2c3d4e5f6a7b-AMS)\n");
  });
});

describe("CLIENT_BODY_TIMEOUT_MS", () => {
  const base = { ORIGIN_URL: "https://origin.example" };
  it("defaults to 60 s (nginx client_body_timeout) and is checked, naming the field", () => {
    expect(parseBaseConfig(base).clientBodyTimeoutMs).toBe(60_000);
    expect(parseBaseConfig({ ...base, CLIENT_BODY_TIMEOUT_MS: "5000" }).clientBodyTimeoutMs).toBe(5000);
    for (const bad of ["50", "600001", "1.5", "60s"]) {
      expect(() => parseBaseConfig({ ...base, CLIENT_BODY_TIMEOUT_MS: bad }), bad).toThrow(/CLIENT_BODY_TIMEOUT_MS/);
    }
  });
});
