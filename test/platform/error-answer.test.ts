import { describe, expect, it } from "vitest";
import { errorAnswer } from "../../src/platform/error-answer";

describe("errorAnswer", () => {
  it("turns an overloaded or retryable Durable Object error into 503 + Retry-After", async () => {
    for (const flag of ["overloaded", "retryable"] as const) {
      const err = Object.assign(new Error("Durable Object is overloaded"), { [flag]: true });
      const res = errorAnswer(err, "offload node");
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).toBe("1");
      expect(await res.text()).toMatch(/^offload node is busy/);
    }
  });

  it("answers 500 for anything else, without details", async () => {
    const res = errorAnswer(new TypeError("x is undefined"), "offload base");
    expect(res.status).toBe(500);
    expect(await res.text()).toBe("internal error in the offload base\n");
    expect(errorAnswer(Object.assign(new Error("no"), { overloaded: "yes" }), "offload base").status).toBe(500);
  });
});
