import { defineConfig, mergeConfig } from "vitest/config";
import base from "./vitest.config";

/**
 * The fault suite (test/faults, `npm run test:faults`): the main config's aliases, but it starts
 * its own redis-server and app server instances, so no global setup; faults run one after
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
    },
  }),
);
