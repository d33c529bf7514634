// A redirect's header fields are kept per isolate (issue #13): never past the ranking,
// the file's facts or the Want-Repr-Digest they were built from.
import { describe, expect, it } from "vitest";
import { redirectAnswer, redirectFields } from "../../src/base/redirect";

function counter() {
  let built = 0;
  const build = (link: string) => () => {
    built++;
    const h = new Headers();
    h.append("link", link);
    return h;
  };
  return { build, built: () => built };
}

describe("base: redirect fields kept per isolate", () => {
  const location = "https://a.example/f/x.iso";

  it("builds a redirect's fields once while its ranking and facts stay the same objects", () => {
    const env = {};
    const { build, built } = counter();
    const facts = { path: "/f/x.iso", location, choice: {}, info: {}, wantReprDigest: null };
    const first = redirectFields(env, facts, build("<a>"), "s");
    expect(redirectFields(env, { ...facts }, build("<a>"), "s")).toBe(first);
    expect(built()).toBe(1);
    expect(Object.fromEntries(first)).toEqual({ link: "<a>", location, "cache-control": "private, no-store", "cache-status": "s", "content-type": "text/plain; charset=utf-8" });
  });

  it("builds them anew for a new ranking (a health flip, a catalog change) or new facts about the file", () => {
    const env = {};
    const { build, built } = counter();
    const facts = { path: "/f/x.iso", location, choice: {}, info: {}, wantReprDigest: null };
    redirectFields(env, facts, build("<a>, <b>"), "s");
    const flipped = redirectFields(env, { ...facts, choice: {} }, build("<a>"), "s");
    expect(flipped.get("link")).toBe("<a>");
    const learned = redirectFields(env, { ...facts, choice: facts.choice, info: {} }, build("<a>, <b>; digest"), "s");
    expect(learned.get("link")).toBe("<a>, <b>; digest");
    expect(built()).toBe(3);
  });

  it("keeps apart what differs by request: the location (query, token) and Want-Repr-Digest", () => {
    const env = {};
    const { build, built } = counter();
    const facts = { path: "/f/x.iso", location, choice: {}, info: {}, wantReprDigest: null };
    const plain = redirectFields(env, facts, build("<a>"), "s");
    const noDigest = redirectFields(env, { ...facts, wantReprDigest: "sha-256=0" }, build("<a>"), "s");
    const other = redirectFields(env, { ...facts, location: `${location}?v=2` }, build("<a>"), "s");
    expect(new Set([plain, noDigest, other]).size).toBe(3);
    expect(other.get("location")).toBe(`${location}?v=2`);
    expect(built()).toBe(3);
    expect(redirectFields(env, facts, build("<a>"), "s")).toBe(plain);
  });

  it("each answer gets its own copy: changing one answer's fields leaves the kept ones alone", async () => {
    const env = {};
    const { build } = counter();
    const facts = { path: "/f/x.iso", location, choice: {}, info: {}, wantReprDigest: null };
    const res = redirectAnswer(307, location, redirectFields(env, facts, build("<a>"), "s"));
    res.headers.set("cache-status", "changed");
    expect(redirectFields(env, facts, build("<a>"), "s").get("cache-status")).toBe("s");
    expect(res.status).toBe(307);
    expect(await res.text()).toBe(`redirecting to ${location}\n`);
  });
});
