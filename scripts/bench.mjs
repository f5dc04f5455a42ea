/**
 * `npm run bench`: performance figures, never pass/fail (shared machines are noisy). Builds what
 * it needs, bundles bench/*.ts with esbuild (like the agent runtime) and runs each benchmark.
 */
import path from "node:path";
import { ensureBuild } from "./lib/build.mjs";
import { ensureRedisServer } from "./lib/redis.mjs";
import { ensureNodeModules, log, ROOT, run } from "./lib/system.mjs";

ensureNodeModules();
ensureRedisServer();
ensureBuild();
const out = path.join(ROOT, "dist", "bench", "replay.mjs");
run("npx", ["esbuild", "bench/replay.ts", "--bundle", "--platform=node", "--target=node20", "--format=esm", "--packages=external", `--outfile=${out}`, "--log-level=warning"]);
log("benchmark: replay");
run(process.execPath, [out]);
