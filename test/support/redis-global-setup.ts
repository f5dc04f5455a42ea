/**
 * Starts one real redis-server on a free port for the whole vitest run and hands its URL to
 * the test workers through the environment (lib/env.ts reads REDIS_URL from there).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startRedis } from "../../scripts/lib/redis.mjs";

export default async function setup() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "runwatch-test-redis-"));
  const redis = await startRedis({ dir, persistent: false });
  process.env.REDIS_URL = redis.url;
  // Route handlers run in this process as if bound to localhost: RUNWATCH_AUTH defaults to none.
  process.env.HOST ??= "127.0.0.1";
  process.env.SSE_HEARTBEAT_MS ??= "250";
  process.env.DEMO_AGENT_SPEED ??= "40";
  process.env.MAX_RUNNING_AGENTS ??= "8";
  // Suites create runs and publish from one address (and route handlers called directly have
  // none) far faster than a person would; rate-limit.test.ts sets its own small limits.
  for (const name of ["RATE_LIMIT_RUN_CREATION", "RATE_LIMIT_CONTROL", "RATE_LIMIT_AGENT", "RATE_LIMIT_SIGN_IN"]) process.env[name] ??= "1000000";
  // Every SSE connection logs an open and a close line at info: hundreds per run of the suite.
  process.env.LOG_LEVEL ??= "warn";
  process.env.RUNWATCH_DATA_DIR = path.join(dir, "data");
  return async () => {
    await redis.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  };
}
