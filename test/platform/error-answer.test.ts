import { describe, expect, it } from "vitest";
import { errorAnswer } from "../../src/platform/error-answer";

describe("errorAnswer", () => {
  it("turns an overloaded or retryable Durable Object error into 503 + Retry-After", async () => {
    for (const flag of ["overloaded", "retryable"] as const) {
      const err = Object.assign(new Error("Durable Object is overloaded"), { [flag]: true });
      const res = errorAnswer(err, "offload node", new Headers({ "cf-ray": "8f1b2c3d4e5f6a7b-FRA" }));
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).toBe("1");
      expect(await res.text()).toMatch(/^offload node is busy .* \(request id 8f1b2c3d4e5f6a7b-FRA\)\n$/);
      expect(res.headers.get("x-request-id")).toBe("8f1b2c3d4e5f6a7b-FRA");
    }
  });

  it("answers 500 for anything else, without details", async () => {
    const res = errorAnswer(new TypeError("x is undefined"), "offload base", new Headers());
    expect(res.status).toBe(500);
    const id = res.headers.get("x-request-id");
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(await res.text()).toBe(`internal error in the offload base (request id ${id})\n`);
    expect(errorAnswer(Object.assign(new Error("no"), { overloaded: "yes" }), "offload base", new Headers()).status).toBe(500);
  });
});
