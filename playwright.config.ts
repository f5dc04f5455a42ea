import { defineConfig, devices } from "@playwright/test";

/**
 * E2E against the production build in Debian's Chromium (/usr/bin/chromium; no browser
 * downloads here). Two web servers from one build, each `npm start`'s script with a throwaway
 * Redis: one streams from Redis, the other with NEXT_PUBLIC_STREAMING_BACKEND=kubectl.
 */
const PORT = Number(process.env.E2E_PORT ?? 3100);
const KUBECTL_PORT = Number(process.env.E2E_KUBECTL_PORT ?? PORT + 1);
const CI = Boolean(process.env.CI);
// Specs create runs and post controls from 127.0.0.1 far faster than a person would. Also on
// process.env, for the servers specs start themselves (e2e/support/app-server.ts).
const RATE_LIMITS = Object.fromEntries(
  ["RATE_LIMIT_RUN_CREATION", "RATE_LIMIT_CONTROL", "RATE_LIMIT_AGENT", "RATE_LIMIT_SIGN_IN"].map((name) => [name, (process.env[name] ??= "1000000")]),
);

const chromium = {
  ...devices["Desktop Chrome"],
  launchOptions: {
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  },
};

function webServer(port: number, backend: "redis" | "kubectl") {
  return {
    command: `node scripts/start.mjs --ephemeral --no-install --no-build --no-demo --port ${port}`,
    url: `http://127.0.0.1:${port}/api/health`,
    reuseExistingServer: !CI,
    timeout: 120_000,
    stdout: "pipe" as const,
    stderr: "pipe" as const,
    // A few times faster than a human would watch, still slow enough to see streaming.
    // The redis server leaves NEXT_PUBLIC_STREAMING_BACKEND empty: unset must mean redis.
    // LOG_LEVEL warn: one info line per SSE connection would bury the test output.
    env: { ...RATE_LIMITS, LOG_LEVEL: process.env.LOG_LEVEL ?? "warn", DEMO_AGENT_SPEED: process.env.DEMO_AGENT_SPEED ?? "4", REDIS_URL: "", NEXT_PUBLIC_STREAMING_BACKEND: backend === "redis" ? "" : backend },
  };
}

export default defineConfig({
  testDir: "e2e",
  timeout: 90_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  forbidOnly: CI,
  retries: CI ? 1 : 0,
  // JSON only when scripts/test.mjs asks for it (it sums every layer into one closing line).
  reporter: [
    ["list"],
    ["html", { open: "never", outputFolder: "playwright-report" }],
    ...(process.env.PLAYWRIGHT_JSON_OUTPUT_FILE ? [["json", { outputFile: process.env.PLAYWRIGHT_JSON_OUTPUT_FILE }] as const] : []),
  ],
  use: {
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
  },
  projects: [
    {
      name: "redis",
      use: { ...chromium, baseURL: `http://127.0.0.1:${PORT}` },
      metadata: { backend: "redis", label: "Redis Streaming" },
    },
    {
      // The same user journey against the log backend; the other specs need one backend only.
      name: "kubectl",
      testMatch: /run\.spec\.ts/,
      use: { ...chromium, baseURL: `http://127.0.0.1:${KUBECTL_PORT}` },
      metadata: { backend: "kubectl", label: "Kubectl Streaming" },
    },
  ],
  webServer: [webServer(PORT, "redis"), webServer(KUBECTL_PORT, "kubectl")],
});
