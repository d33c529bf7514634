import { describe, it, expect, vi } from "vitest";
import { dropHopByHop, stripHopByHop } from "../../src/http/hop-by-hop";

describe("stripHopByHop (RFC 9110 §7.6.1)", () => {
  it("removes the fixed hop-by-hop fields and those named in Connection", () => {
    const input = new Headers({
      Connection: "keep-alive, X-Foo , close, bad token",
      "Keep-Alive": "timeout=5",
      "Proxy-Connection": "keep-alive",
      TE: "trailers",
      Trailer: "Expires",
      "Transfer-Encoding": "chunked",
      Upgrade: "h2c",
      "Proxy-Authenticate": "Basic",
      "Proxy-Authorization": "Basic abc",
      "X-Foo": "1",
      "X-Bar": "2",
      "Content-Type": "text/plain",
    });
    const out = stripHopByHop(input);
    expect([...out.keys()].sort()).toEqual(["content-type", "x-bar"]);
    expect(input.get("X-Foo")).toBe("1");
  });

  it("keeps everything when there is nothing to strip, including repeated Set-Cookie", () => {
    const input = new Headers();
    input.append("Set-Cookie", "a=1");
    input.append("Set-Cookie", "b=2");
    input.append("Cache-Control", "max-age=60");
    const out = stripHopByHop(input);
    expect(out.getSetCookie()).toEqual(["a=1", "b=2"]);
    expect(out.get("cache-control")).toBe("max-age=60");
  });

  it("dropHopByHop edits in place, also dropping the caller's fields, and deletes only the names present", () => {
    const headers = new Headers({ connection: "keep-alive, X-Foo", "keep-alive": "timeout=5", "x-foo": "1", "x-sendfile": "/a", "content-type": "text/plain" });
    const spy = vi.spyOn(Headers.prototype, "delete");
    try {
      dropHopByHop(headers, new Set(["x-sendfile"]));
      expect([...headers.keys()]).toEqual(["content-type"]);
      expect(new Set(spy.mock.calls.map(([n]) => n))).toEqual(new Set(["connection", "keep-alive", "x-foo", "x-sendfile"]));
      spy.mockClear();
      const untouched = new Headers({ "content-type": "text/plain" });
      dropHopByHop(untouched, new Set(["x-sendfile"]));
      expect([...untouched]).toEqual([["content-type", "text/plain"]]);
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });
});
