import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { findNginx } from "./scripts/nginx-oracle/start-nginx.mjs";
import { freePort } from "./scripts/lib/free-port.mjs";

// Ports of the real servers test/support/global-setup.mjs starts, chosen here so the
// workers' bindings can name them (the env is shared with global setup).
process.env.TEST_ORIGIN_PORT ??= String(await freePort());
process.env.TEST_CONTROL_PORT ??= String(await freePort());
process.env.TEST_NGINX_PORT ??= String(await freePort());
process.env.TEST_TARGET_PORTS ??= [await freePort(), await freePort(), await freePort()].join(",");
process.env.TEST_TARGET_CONTROL_PORT ??= String(await freePort());
// Echo backends of the reverse-proxy tests (test/support/proxy-backends.mjs).
process.env.TEST_BACKEND_PORTS ??= [await freePort(), await freePort(), await freePort()].join(",");
process.env.TEST_BACKEND_CONTROL_PORT ??= String(await freePort());
// Real mirrors of the mirror inventory's tests (test/support/mirror-servers.mjs).
process.env.TEST_MIRROR_PORTS ??= [await freePort(), await freePort(), await freePort()].join(",");
process.env.TEST_MIRROR_CONTROL_PORTS ??= [await freePort(), await freePort(), await freePort()].join(",");
const local = (port: string | number) => `http://127.0.0.1:${port}`;
const origin = local(process.env.TEST_ORIGIN_PORT);
const control = local(process.env.TEST_CONTROL_PORT);
// nginx serving the origin's files (global-setup starts it when installed); "" = no nginx.
const nginx = findNginx() ? local(process.env.TEST_NGINX_PORT) : "";
const [t1, t2, t3] = process.env.TEST_TARGET_PORTS.split(",");
const [b1, b2, b3] = process.env.TEST_BACKEND_PORTS.split(",");

export default defineConfig({
  test: {
    globalSetup: ["./test/support/global-setup.mjs"],
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
                // Small chunks, so every test file crosses chunk boundaries; short stalls for resume tests.
                CHUNK_SIZE: "1048576",
                FILL_STALL_SECONDS: "3",
                ORIGIN_TIMEOUT_MS: "1500",
                SIGNING_KEYS: "k2:node-test-secret-0002,k1:node-test-secret-0001",
                TEST_CONTROL_URL: control,
                TEST_NGINX_URL: nginx,
              },
              // wrangler.toml leaves DOWNLOAD_EVENTS commented out; bound here so the node's
              // download events are written through a real (local) dataset.
              analyticsEngineDatasets: { DOWNLOAD_EVENTS: { dataset: "offload_downloads" } },
              // The base worker's real OffloadStats, which the node's STATS binding
              // (script_name = "offload-base") reports to: see scripts/stack/stats-worker.mjs.
              workers: [await (await import("./scripts/stack/stats-worker.mjs")).statsBaseWorker()],
            },
          }),
        ],
        test: {
          name: "workerd",
          include: ["test/**/*.test.ts"],
          exclude: ["test/base/**"],
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.base.toml" },
            miniflare: {
              bindings: {
                ORIGIN_URL: origin,
                BASE_ID: "test-base",
                OFFLOAD_NODES: JSON.stringify([
                  { id: "n1", url: local(t1!), location: { lat: 50.11, lon: 8.68, country: "DE", continent: "EU" } },
                  { id: "n2", url: local(t2!), location: { lat: 40.71, lon: -74.0, country: "US", continent: "NA" } },
                ]),
                MIRRORS: JSON.stringify([{ id: "m1", url: `${local(t3!)}/pub`, prefixes: ["/iso/"], location: { lat: 48.85, lon: 2.35, country: "FR" } }]),
                OFFLOAD_MIN_BYTES: "100000",
                SIGNING_KEYS: "k1:node-test-secret-0001",
                ORIGIN_TIMEOUT_MS: "1500",
                HEALTH_TIMEOUT_MS: "500",
                LEASE_SECONDS: "3",
                TEST_CONTROL_URL: control,
                TEST_TARGETS: process.env.TEST_TARGET_PORTS,
                TEST_TARGET_CONTROL_URL: local(process.env.TEST_TARGET_CONTROL_PORT),
                TEST_BACKEND_PORTS: process.env.TEST_BACKEND_PORTS,
                TEST_BACKEND_CONTROL_URL: local(process.env.TEST_BACKEND_CONTROL_PORT),
                TEST_MIRROR_PORTS: process.env.TEST_MIRROR_PORTS,
                TEST_MIRROR_CONTROL_PORTS: process.env.TEST_MIRROR_CONTROL_PORTS,
                // mod_athena farms over the echo backends (test/support/proxy-backends.mjs).
                FARMS: JSON.stringify({
                  farm_one: {
                    members: [{ id: "web1", url: local(b1!) }, { id: "web2", url: local(b2!) }],
                    fallbackUrl: "https://sorry.example.net",
                    health: { path: "/health", expect: [200], intervalSeconds: 1, timeoutMs: 500, rise: 2, fall: 2 },
                    qos: ["farm_gold"],
                  },
                  farm_stats: {
                    algorithm: "least-loaded",
                    statsTtlSeconds: 2,
                    members: [{ id: "s1", url: local(b1!) }, { id: "s2", url: local(b2!) }, { id: "s3", url: local(b3!) }],
                  },
                  farm_gold: { members: [{ id: "gold1", url: local(b3!) }] },
                }),
                ATH_TOKEN: "ath-test-token-0123456789",
                ATH_COOKIE_KEYS: "c2:cookie-test-secret-0002,c1:cookie-test-secret-0001",
                ADMIN_TOKEN: "admin-test-token-0123456789",
                // The tests' mirrors are real servers on 127.0.0.1.
                MIRRORS_ALLOW_PRIVATE: "true",
                STATS_FLUSH_SECONDS: "0",
              },
              // Commented out in wrangler.base.toml (off by default); bound in tests.
              analyticsEngineDatasets: { DOWNLOAD_EVENTS: { dataset: "offload_downloads" } },
            },
          }),
        ],
        test: {
          name: "workerd-base",
          include: ["test/base/**/*.test.ts"],
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
          globalSetup: ["./test/stack/bundles.setup.mjs"],
          include: ["test/stack/**/*.test.mjs"],
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
