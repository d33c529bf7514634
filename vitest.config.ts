import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { findNginx } from "./scripts/nginx-oracle/start-nginx.mjs";
import { freePort } from "./scripts/lib/free-port.mjs";

process.env.TEST_ORIGIN_PORT ??= String(await freePort());
process.env.TEST_CONTROL_PORT ??= String(await freePort());
process.env.TEST_NGINX_PORT ??= String(await freePort());
const origin = `http://127.0.0.1:${process.env.TEST_ORIGIN_PORT}`;
const control = `http://127.0.0.1:${process.env.TEST_CONTROL_PORT}`;
// nginx serving the origin's files (global-setup starts it when installed); "" = no nginx.
const nginx = findNginx() ? `http://127.0.0.1:${process.env.TEST_NGINX_PORT}` : "";

export default defineConfig({
  test: {
    // Test files share one real origin (and stop it in places): one file at a time.
    fileParallelism: false,
    projects: [
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                ORIGIN_URL: origin,
                NODE_ID: "test-node",
                // Short enough for lease-expiry and timeout tests to run in seconds.
                LEASE_SECONDS: "3",
                ORIGIN_TIMEOUT_MS: "1500",
                TEST_CONTROL_URL: control,
                TEST_NGINX_URL: nginx,
              },
            },
          }),
        ],
        test: {
          name: "workerd",
          globalSetup: ["./test/support/global-setup.mjs"],
          include: ["test/**/*.test.ts"],
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        // The local stack as a user starts it: real sockets, real peers, real clients.
        test: {
          name: "stack",
          environment: "node",
          include: ["test/stack/**/*.test.mjs"],
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
