import { describe, expect, it } from "vitest";
import { parseBaseConfig } from "../../src/config/base-config";
import { parseNodeConfig } from "../../src/config/node-config";

const base = { ORIGIN_URL: "https://origin.example", OFFLOAD_NODES: "https://dl-a.example.com,https://dl-b.example.com:8443" };
const TOKEN = "abcdefghijklmnopqrstuvwxyz0123456789ABCD";
const ZONE = "0123456789abcdef0123456789abcdef";

describe("CF_API_TOKEN / CF_ZONE_ID / CF_PURGE_HOSTS / CF_API_BASE", () => {
  it("off without token and zone; hosts default to the nodes' and PUBLIC_URL's", () => {
    expect(parseBaseConfig(base).cloudflarePurge).toBeNull();
    expect(parseBaseConfig({ ...base, PUBLIC_URL: "https://downloads.example.com", CF_API_TOKEN: TOKEN, CF_ZONE_ID: ZONE }).cloudflarePurge).toEqual({
      apiBase: "https://api.cloudflare.com/client/v4",
      zoneId: ZONE,
      apiToken: TOKEN,
      hosts: ["dl-a.example.com", "dl-b.example.com:8443", "downloads.example.com"],
    });
  });

  it.each([
    [{ CF_ZONE_ID: ZONE }, /^invalid config CF_API_TOKEN: is required/],
    [{ CF_API_TOKEN: TOKEN }, /^invalid config CF_ZONE_ID: is required/],
    [{ CF_PURGE_HOSTS: "x.example" }, /^invalid config CF_PURGE_HOSTS: is set, but CF_API_TOKEN and CF_ZONE_ID are not/],
    [{ CF_API_TOKEN: "short secret!", CF_ZONE_ID: ZONE }, /^invalid config CF_API_TOKEN: is not an API token/],
    [{ CF_API_TOKEN: TOKEN, CF_ZONE_ID: "example.com" }, /^invalid config CF_ZONE_ID: "example.com" is not a zone id/],
    [{ CF_API_TOKEN: TOKEN, CF_ZONE_ID: ZONE, CF_API_BASE: "http://api.example.com/v4" }, /^invalid config CF_API_BASE: must be https/],
    [{ CF_API_TOKEN: TOKEN, CF_ZONE_ID: ZONE, CF_PURGE_HOSTS: "a.example, https://b.example/" }, /^invalid config CF_PURGE_HOSTS: "https:\/\/b.example\/" is not a host name/],
  ])("%o is refused naming the field", (vars, message) => {
    expect(() => parseBaseConfig({ ...base, ...vars })).toThrow(message);
  });

  it("never puts the token in an error", () => {
    const secret = "not a token but a secret value";
    expect(() => parseBaseConfig({ ...base, CF_API_TOKEN: secret, CF_ZONE_ID: ZONE })).toThrow(expect.objectContaining({ message: expect.not.stringContaining(secret) }));
  });

  it("a loopback API base over http is allowed (a local test server)", () => {
    expect(parseBaseConfig({ ...base, CF_API_TOKEN: TOKEN, CF_ZONE_ID: ZONE, CF_API_BASE: "http://127.0.0.1:9999/client/v4/" }).cloudflarePurge?.apiBase).toBe("http://127.0.0.1:9999/client/v4");
  });
});

describe("PURGE_CHECK_SECONDS / CACHE_NAME (node)", () => {
  it("defaults and bounds", () => {
    const node = { ORIGIN_URL: "https://origin.example" };
    expect(parseNodeConfig(node)).toMatchObject({ purgeCheckSeconds: 2, cacheName: null });
    expect(parseNodeConfig({ ...node, PURGE_CHECK_SECONDS: "0", CACHE_NAME: "node-a" })).toMatchObject({ purgeCheckSeconds: 0, cacheName: "node-a" });
    expect(() => parseNodeConfig({ ...node, PURGE_CHECK_SECONDS: "3601" })).toThrow(/^invalid config PURGE_CHECK_SECONDS: 3601 is outside 0..3600/);
    expect(() => parseNodeConfig({ ...node, CACHE_NAME: "a b" })).toThrow(/^invalid config CACHE_NAME: /);
  });
});
