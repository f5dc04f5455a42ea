/**
 * `npm test`: from a fresh clone to every test passing.
 *
 *  1. npm dependencies (npm ci when missing), Debian's redis-server and chromium (installed
 *     when missing and we are root);
 *  2. typecheck and lint;
 *  3. unit and integration tests (vitest; its global setup starts a real redis-server);
 *  4. production build, then Playwright e2e in Debian's Chromium.
 */
import { ensureBuild } from "./lib/build.mjs";
import { ensureRedisServer } from "./lib/redis.mjs";
import { aptInstall, ensureNodeModules, freePort, log, run, runAsync, which } from "./lib/system.mjs";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

async function main() {
  const startedAt = Date.now();
  ensureNodeModules();
  ensureRedisServer();
  if (!which(CHROMIUM)) aptInstall(["chromium"], "the Playwright end-to-end tests");

  log("typecheck and lint");
  run("npx", ["tsc", "--noEmit"]);
  run("npx", ["eslint", "."]);

  log("build the agent runtime used by the integration tests");
  run("npm", ["run", "build:agent"]);

  log("unit and integration tests (vitest, real redis-server)");
  const unit = await runAsync("npx", ["vitest", "run"]);
  if (unit !== 0) throw new Error("unit/integration tests failed");

  ensureBuild();
  const port = await freePort();
  log(`end-to-end tests (Playwright, ${CHROMIUM}, app on port ${port})`);
  const e2e = await runAsync("npx", ["playwright", "test"], { env: { ...process.env, E2E_PORT: String(port) } });
  if (e2e !== 0) throw new Error("end-to-end tests failed");

  log(`all tests passed in ${Math.round((Date.now() - startedAt) / 1000)} s`);
}

main().catch((error) => {
  process.stderr.write(`[runwatch] npm test failed: ${error.message}\n`);
  process.exit(1);
});
