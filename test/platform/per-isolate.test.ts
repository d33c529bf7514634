import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { perIsolate } from "../../src/platform/per-isolate";

describe("perIsolate", () => {
  it("creates once per key object and hands back the same value after", () => {
    let created = 0;
    const counter = perIsolate(() => ({ n: ++created }));
    const a = counter(env);
    a.n += 10;
    expect(counter(env)).toBe(a);
    expect(counter(env).n).toBe(11);
    expect(created).toBe(1);
  });

  it("keeps one value per key: another env (another deployment) starts fresh", () => {
    const list = perIsolate((_key: object) => [] as string[]);
    const other = { ...env };
    list(env).push("x");
    expect(list(other)).toEqual([]);
    expect(list(env)).toEqual(["x"]);
  });

  it("reads the extra arguments only on a key's first call", () => {
    const prepared = perIsolate((_env: object, config: { size: number }) => ({ size: config.size }));
    expect(prepared(env, { size: 1 }).size).toBe(1);
    expect(prepared(env, { size: 2 }).size).toBe(1);
  });

  it("keeps an undefined result too, without calling create again", () => {
    let calls = 0;
    const nothing = perIsolate((_key: object): undefined => {
      calls += 1;
      return undefined;
    });
    expect(nothing(env)).toBeUndefined();
    expect(nothing(env)).toBeUndefined();
    expect(calls).toBe(1);
  });

  it("gives each getter its own store: two helpers on one key do not share", () => {
    const a = perIsolate(() => ({ who: "a" }));
    const b = perIsolate(() => ({ who: "b" }));
    expect(a(env).who).toBe("a");
    expect(b(env).who).toBe("b");
  });
});
