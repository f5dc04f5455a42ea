import path from "node:path";
import { configDefaults, defineConfig } from "vitest/config";

const root = path.dirname(new URL(import.meta.url).pathname);

export default defineConfig({
  resolve: {
    alias: {
      "@": root,
      // Outside Next's react-server build `server-only` throws on import; tests run server code directly.
      "server-only": path.join(root, "test", "support", "server-only-stub.ts"),
    },
  },
  test: {
    include: ["lib/**/*.test.ts", "agent/**/*.test.ts", "test/**/*.test.ts"],
    // Minutes of real outages against production builds: vitest.faults.config.ts runs them.
    exclude: [...configDefaults.exclude, "test/faults/**"],
    // One real redis-server for the whole run; tests isolate by run id.
    globalSetup: ["test/support/redis-global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
  },
});
