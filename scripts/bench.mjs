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
for (const name of ["replay", "control"]) {
  const out = path.join(ROOT, "dist", "bench", `${name}.mjs`);
  run("npx", ["esbuild", `bench/${name}.ts`, "--bundle", "--platform=node", "--target=node20", "--format=esm", "--packages=external", `--outfile=${out}`, "--log-level=warning"]);
  log(`benchmark: ${name}`);
  run(process.execPath, [out]);
}
