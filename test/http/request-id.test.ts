import { describe, expect, it } from "vitest";
import { opaqueError, requestId } from "../../src/http/request-id";

describe("requestId / opaqueError", () => {
  it("is CF-Ray when it looks like one, else a random id", () => {
    expect(requestId(new Headers({ "cf-ray": "8f1b2c3d4e5f6a7b-FRA" }))).toBe("8f1b2c3d4e5f6a7b-FRA");
    for (const forged of ["<b>x</b>", "a b", "x".repeat(65), "-lead", ""]) {
      expect(requestId(new Headers({ "cf-ray": forged }), () => "r1"), forged).toBe("r1");
    }
    expect(requestId(new Headers())).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-/);
  });

  it("answers one plain line naming the id, and the X-Request-Id header", async () => {
    const res = opaqueError(502, "proxy route /x/: no backend answered", "abc-1", { "cache-status": "b; fwd=bypass" });
    expect(res.status).toBe(502);
    expect(res.headers.get("x-request-id")).toBe("abc-1");
    expect(res.headers.get("cache-status")).toBe("b; fwd=bypass");
    expect(res.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(await res.text()).toBe("proxy route /x/: no backend answered (request id abc-1)\n");
  });
});
