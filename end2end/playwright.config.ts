import { defineConfig } from "@playwright/test";
import * as os from "node:os";
import * as path from "node:path";
import { ADMIN } from "./tests/helpers";

// The release server on the embedded default database, in a fresh data folder each run.
const port = Number(process.env.E2E_PORT ?? 3300);
const baseURL = `http://127.0.0.1:${port}`;
const dataDir = path.join(os.tmpdir(), `boxoffice-e2e-${process.getuid?.() ?? "user"}`);
const repo = path.resolve(__dirname, "..");
// The end-to-end tests run on the embedded default, even where a DATABASE_URL is set.
delete process.env.DATABASE_URL;

export default defineConfig({
  testDir: "./tests",
  outputDir: "./test-results",
  timeout: 45_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  // A test.only left behind would skip the rest; a test that passes only on a retry is a bug.
  forbidOnly: true,
  retries: 0,
  workers: 1,
  reporter: [["list"]],
  use: {
    baseURL,
    browserName: "chromium",
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  webServer: {
    // A known admin (the embedded default's own demo admin has a random password), then serve.
    command:
      `rm -rf '${dataDir}' && ./target/release/boxoffice create-admin --email ${ADMIN.email} --name 'E2E Admin' && ` +
      `exec ./target/release/boxoffice`,
    cwd: repo,
    url: `${baseURL}/readyz`,
    timeout: 120_000,
    reuseExistingServer: false,
    stdout: "pipe",
    stderr: "pipe",
    gracefulShutdown: { signal: "SIGTERM", timeout: 10_000 },
    env: {
      LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
      LEPTOS_SITE_ROOT: "target/site",
      BOXOFFICE_DATA_DIR: dataDir,
      RUST_LOG: "warn",
      BOXOFFICE_ADMIN_PASSWORD: ADMIN.password,
      // Short holds, so a test can watch one run out.
      BOXOFFICE_HOLD_SECONDS: "15",
      // The tests register and log in many times from one address: no rate limits here.
      BOXOFFICE_AUTH_RATE_PER_MINUTE: "0",
      BOXOFFICE_LOGIN_RATE_PER_MINUTE: "0",
      BOXOFFICE_BOOKING_RATE_PER_SECOND: "0",
      // Every browser of the run comes from one address.
      BOXOFFICE_EVENT_STREAMS_PER_IP: "0",
    },
  },
});
