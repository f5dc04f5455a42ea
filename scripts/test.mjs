/**
 * `npm test`: from a fresh clone to every test passing.
 *
 *  1. npm dependencies (npm ci when missing), Debian's redis-server and chromium (installed
 *     when missing and we are root);
 *  2. typecheck and lint;
 *  3. unit and integration tests (vitest; its global setup starts a real redis-server);
 *  4. production build, then Playwright e2e in Debian's Chromium;
 *  5. the fault suite in its quick form (FAULTS_QUICK=1; `npm run test:faults` is the full one).
 */
import fs from "node:fs";
import path from "node:path";
import { ensureBuild } from "./lib/build.mjs";
import { ensureRedisServer } from "./lib/redis.mjs";
import { aptInstall, ensureNodeModules, freePort, log, ROOT, run, runAsync, which } from "./lib/system.mjs";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const VITEST_JSON = path.join(ROOT, "test-reports", "vitest-results.json");
const E2E_JSON = path.join(ROOT, "test-reports", "e2e-results.json");
const FAULTS_JSON = path.join(ROOT, "test-reports", "faults-vitest-quick.json");

/** Counts from the runners' JSON reports, for one closing line over every layer. */
function readCounts() {
  const read = (file) => (fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, "utf8")) : null);
  const vitest = read(VITEST_JSON);
  const e2e = read(E2E_JSON);
  const faults = read(FAULTS_JSON);
  return {
    passed: (vitest?.numPassedTests ?? 0) + (e2e ? e2e.stats.expected + e2e.stats.flaky : 0) + (faults?.numPassedTests ?? 0),
    failed: (vitest?.numFailedTests ?? 0) + (e2e?.stats.unexpected ?? 0) + (faults?.numFailedTests ?? 0),
    skipped: (vitest?.numPendingTests ?? 0) + (vitest?.numTodoTests ?? 0) + (e2e?.stats.skipped ?? 0) + (faults?.numPendingTests ?? 0),
  };
}

function printTotals() {
  const { passed, failed, skipped } = readCounts();
  process.stdout.write(`total: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}\n`);
}

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
  fs.rmSync(path.join(ROOT, "test-reports"), { recursive: true, force: true });
  const unit = await runAsync("npx", ["vitest", "run", "--reporter=default", "--reporter=json", `--outputFile.json=${VITEST_JSON}`]);
  if (unit !== 0) throw new Error("unit/integration tests failed");

  ensureBuild();
  const [port, kubectlPort] = [await freePort(), await freePort()];
  log(`end-to-end tests (Playwright, ${CHROMIUM}, apps on ports ${port} (redis) and ${kubectlPort} (kubectl))`);
  const e2e = await runAsync("npx", ["playwright", "test"], {
    env: { ...process.env, E2E_PORT: String(port), E2E_KUBECTL_PORT: String(kubectlPort), PLAYWRIGHT_JSON_OUTPUT_FILE: E2E_JSON },
  });
  if (e2e !== 0) throw new Error("end-to-end tests failed");

  log("fault suite, quick form (about a minute: Redis restarted and paused, app and agent killed, 200 viewers reconnecting)");
  const faults = await runAsync("node", ["scripts/test-faults.mjs"], { env: { ...process.env, FAULTS_QUICK: "1" } });
  if (faults !== 0) throw new Error("fault suite failed");

  log(`all tests passed in ${Math.round((Date.now() - startedAt) / 1000)} s`);
  printTotals();
}

main().catch((error) => {
  process.stderr.write(`[runwatch] npm test failed: ${error.message}\n`);
  printTotals();
  process.exit(1);
});
