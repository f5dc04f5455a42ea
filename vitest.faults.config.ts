import path from "node:path";
import { defineConfig } from "vitest/config";

const root = path.dirname(new URL(import.meta.url).pathname);

/**
 * The fault suite (test/faults, `npm run test:faults`): it starts its own redis-server and
 * `next start` instances, so no global setup; faults run one after another, and take minutes.
 */
export default defineConfig({
  resolve: {
    alias: {
      "@": root,
      "server-only": path.join(root, "test", "support", "server-only-stub.ts"),
    },
  },
  test: {
    include: ["test/faults/**/*.test.ts"],
    testTimeout: 300_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    // The quick form inside `npm test` retries a fault once. Not because a loss is acceptable:
    // one clean-clone run (2026-11-23) saw one of three viewers miss 41 of 337 events across the
    // Redis restart and still get run_complete, and the cause is not found yet (README,
    // "Reliability", "Open defect"); the retry is printed, and the full form never retries.
    retry: process.env.FAULTS_QUICK === "1" ? 1 : 0,
    pool: "forks",
  },
});
