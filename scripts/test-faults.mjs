/**
 * `npm run test:faults`: the fault suite (test/faults) against the production build, with real
 * redis-server, `next start` and agent processes: Redis restarted and paused, the app and an
 * agent killed, a reconnect storm. FAULTS_QUICK=1 runs the smaller form `npm test` uses. The
 * full form writes test/faults/results.md, which the README's "Reliability" section quotes.
 */
import path from "node:path";
import { ensureBuild } from "./lib/build.mjs";
import { ensureRedisServer } from "./lib/redis.mjs";
import { ensureNodeModules, log, ROOT, runAsync } from "./lib/system.mjs";

ensureNodeModules();
ensureRedisServer();
ensureBuild();
const quick = process.env.FAULTS_QUICK === "1";
log(`fault suite (${quick ? "quick" : "full"}): real redis-server, app servers and agents`);
const json = path.join(ROOT, "test-reports", `faults-vitest-${quick ? "quick" : "full"}.json`);
const code = await runAsync("npx", ["vitest", "run", "--config", "vitest.faults.config.ts", "--reporter=default", "--reporter=json", `--outputFile.json=${json}`]);
process.exit(code);
