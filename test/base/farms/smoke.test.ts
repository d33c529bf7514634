import { describe, expect, it } from "vitest";
import { baseFetch } from "../support";

const auth = { authorization: "Bearer ath-test-token-0123456789" };

describe("farms smoke", () => {
  it("query mode answers a member", async () => {
    const res = await baseFetch("/ath/balance/?farm_one", { headers: auth });
    const body = await res.clone().text();
    expect(res.status, body).toBe(200);
    expect(await res.text()).toMatch(/^http:\/\/127\.0\.0\.1:\d+\n$/);
  });
});
