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
    pool: "forks",
  },
});
