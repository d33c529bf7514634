import { describe, expect, it } from "vitest";
import { factsOf, sameFacts, toldAnswer } from "../../src/platform/answer-facts";

const streamOf = (text: string) => new Response(text).body!;

describe("answer facts", () => {
  it("a told answer carries exactly its record, and its facts are the record", async () => {
    const res = toldAnswer(streamOf("hello"), 206, { "content-length": "5", "cache-status": "n; hit" });
    expect(res.status).toBe(206);
    expect([...res.headers]).toEqual([
      ["cache-status", "n; hit"],
      ["content-length", "5"],
    ]);
    expect(await res.text()).toBe("hello");
    const facts = factsOf(res);
    expect(facts.status).toBe(206);
    expect(facts.hasBody).toBe(true);
    expect(facts.get("Content-Length")).toBe("5");
    expect(facts.get("etag")).toBeNull();
  });

  it("never reads a told answer back: its facts are the maker's record, whatever changes later", () => {
    const res = toldAnswer(null, 200, { etag: '"a"' });
    expect(factsOf(res).hasBody).toBe(false);
    // The contract is that nobody changes a told answer; this shows where the facts come from.
    res.headers.set("etag", '"b"');
    expect(factsOf(res).get("etag")).toBe('"a"');
  });

  it("reads an untold answer from its headers, each field once", () => {
    const res = new Response("x", { status: 404, headers: { "cache-status": "n; fwd=miss" } });
    const facts = factsOf(res);
    expect(facts.status).toBe(404);
    expect(facts.hasBody).toBe(true);
    expect(factsOf(new Response(null, { status: 204 })).hasBody).toBe(false);
    expect(facts.get("cache-status")).toBe("n; fwd=miss");
    expect(facts.get("etag")).toBeNull();
    res.headers.set("cache-status", "changed");
    res.headers.set("etag", '"late"');
    expect(factsOf(res)).toBe(facts);
    expect(facts.get("Cache-Status")).toBe("n; fwd=miss");
    expect(facts.get("etag")).toBeNull();
  });

  it("a wrapper made with the same status and fields has the same facts", async () => {
    const res = toldAnswer(streamOf("abc"), 200, { "content-length": "3" });
    const next = sameFacts(res, new Response(res.body, res));
    expect(factsOf(next)).toBe(factsOf(res));
    expect(factsOf(next).get("content-length")).toBe("3");
    expect(await next.text()).toBe("abc");
  });
});
