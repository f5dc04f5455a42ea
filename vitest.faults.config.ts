import { defineConfig, mergeConfig } from "vitest/config";
import base from "./vitest.config";

/**
 * The fault suite (test/faults, `npm run test:faults`): the main config's aliases, but it starts
 * its own redis-server and `next start` instances, so no global setup; faults run one after
 * another, and take minutes.
 */
export default mergeConfig(
  { ...base, test: { ...base.test, include: [], exclude: [], globalSetup: [] } },
  defineConfig({
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
    },
  }),
);
