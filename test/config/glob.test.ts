import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { compileGlob, globStepBound, matchGlob, type StepCounter } from "../../src/config/glob";
import { parseBaseConfig } from "../../src/config/base-config";
import { MAX_PATH_BYTES } from "../../src/http/path";

const matches = (glob: string, text: string) => matchGlob(compileGlob(glob), text);

/** Steps taken to match, checked against the documented bound. */
function steps(glob: string, text: string): { matched: boolean; steps: number; bound: number } {
  const g = compileGlob(glob);
  const counter: StepCounter = { steps: 0 };
  const matched = matchGlob(g, text, counter);
  return { matched, steps: counter.steps, bound: globStepBound(g, text.length) };
}

/** Obviously-correct reference: dynamic programming over (text prefix, pattern prefix). */
function reference(glob: string, text: string): boolean {
  let row = [true, ...Array<boolean>(glob.length).fill(false)];
  for (let j = 1; j <= glob.length; j++) row[j] = row[j - 1]! && glob[j - 1] === "*";
  for (let i = 1; i <= text.length; i++) {
    const next = [false];
    for (let j = 1; j <= glob.length; j++) {
      const c = glob[j - 1];
      next[j] = c === "*" ? next[j - 1]! || row[j]! : row[j - 1]! && (c === "?" || c === text[i - 1]);
    }
    row = next;
  }
  return row[glob.length]!;
}

describe("path globs (OFFLOAD_INCLUDE / OFFLOAD_EXCLUDE)", () => {
  it("keeps the documented syntax: `*` any characters, slashes included; `?` one character; anchored", () => {
    expect(matches("/*", "/")).toBe(true);
    expect(matches("/*", "/a/b/c.iso")).toBe(true);
    expect(matches("/iso/*", "/iso/x/y.iso")).toBe(true);
    expect(matches("/iso/*", "/isox/y")).toBe(false);
    expect(matches("*.iso", "/a/b.iso")).toBe(true);
    expect(matches("*.iso", "/a/b.iso.txt")).toBe(false);
    expect(matches("/t/?.bin", "/t/a.bin")).toBe(true);
    expect(matches("/t/?.bin", "/t/ab.bin")).toBe(false);
    expect(matches("/t/?.bin", "/t/.bin")).toBe(false);
    // Regex metacharacters are literal.
    expect(matches("/a.b(c)+[d]$", "/a.b(c)+[d]$")).toBe(true);
    expect(matches("/a.b", "/axb")).toBe(false);
    expect(matches("/**/x", "/x")).toBe(false);
    expect(matches("/**x", "/x")).toBe(true);
  });

  it("the issue's globs on adversarial paths up to the path limit stay within (n+2)(m+1)+1 steps", () => {
    const cases: Array<[string, string]> = [
      ["/*/*/*/*.iso", "/" + "a/".repeat(451)], // the 903-byte example
      ["/*/*/*/*.iso", "/" + "a/".repeat(1023)],
      ["/*/*/*/*/*/*/*/*/*/*.iso", ("/" + "a/".repeat(MAX_PATH_BYTES)).slice(0, MAX_PATH_BYTES)],
      ["*a*a*a*a*a*a*a*a*b", "/" + "a".repeat(MAX_PATH_BYTES - 1)],
      ["/?*?*?*?*?*?*?*x", "/" + "?".repeat(MAX_PATH_BYTES - 1)],
      ["/*", "/" + "a/".repeat(1023)],
    ];
    for (const [glob, path] of cases) {
      const r = steps(glob, path);
      expect(r.steps, glob).toBeLessThanOrEqual(r.bound);
      expect(r.matched, glob).toBe(reference(glob, path));
    }
    // Concretely: the include list costs a few thousand steps, not seconds.
    const config = parseBaseConfig({ ORIGIN_URL: "http://origin.test", OFFLOAD_INCLUDE: "/*/*/*/*.iso,/*" });
    const counter: StepCounter = { steps: 0 };
    const path = "/" + "a/".repeat(451);
    expect(config.include.map((g) => matchGlob(g, path, counter))).toEqual([false, true]);
    expect(counter.steps).toBeLessThanOrEqual(globStepBound(config.include[0]!, path.length) + globStepBound(config.include[1]!, path.length));
    expect(counter.steps).toBeLessThan(15_000);
  });

  it("property: agrees with a reference matcher and stays within the step bound", () => {
    const glob = fc.string({ unit: fc.constantFrom("a", "b", "/", "*", "?"), maxLength: 10 });
    const text = fc.string({ unit: fc.constantFrom("a", "b", "/", "*", "?"), maxLength: 14 });
    fc.assert(
      fc.property(glob, text, (g, t) => {
        const r = steps(g, t);
        expect(r.matched).toBe(reference(g, t));
        expect(r.steps).toBeLessThanOrEqual(r.bound);
      }),
      { numRuns: 3000 },
    );
    // Long inputs too, up to the path limit: only the bound is checked.
    const long = fc.string({ unit: fc.constantFrom("a", "/", "."), minLength: 0, maxLength: MAX_PATH_BYTES });
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom("a", "/", "*", "?", "."), maxLength: 24 }), long, (g, t) => {
        const r = steps(g, t);
        expect(r.steps).toBeLessThanOrEqual(r.bound);
      }),
      { numRuns: 300 },
    );
  });
});
