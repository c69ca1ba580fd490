// Browser tests of the Dungeon Master's screen in Debian's Chromium, headless: Playwright's own
// browser downloads are not used. The local run is started by the tests (in memory, its own
// port), from the binary `cargo build -p local` made.
const { defineConfig } = require("@playwright/test");

const port = Number(process.env.HITPOINTS_WEB_TEST_PORT ?? 3917);

module.exports = defineConfig({
  testDir: "tests",
  timeout: 60_000,
  fullyParallel: false,
  workers: 1,
  reporter: [["list"]],
  outputDir: "../target/web-tests/results",
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    browserName: "chromium",
    headless: true,
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
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
  // Two runs: without sign-in (every caller an operator), and with the development issuer
  // (`--auth dev`, one port up) where people sign in as on AWS.
  webServer: [
    {
      command: `${process.env.HITPOINTS_LOCAL_BIN ?? "../target/debug/local"} --in-memory --port ${port}`,
      url: `http://127.0.0.1:${port}/`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: "ignore",
      stderr: "ignore",
    },
    {
      command: `${process.env.HITPOINTS_LOCAL_BIN ?? "../target/debug/local"} --in-memory --port ${port + 1} --auth dev`,
      url: `http://127.0.0.1:${port + 1}/`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: "ignore",
      stderr: "ignore",
    },
  ],
});
