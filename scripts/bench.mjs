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
const bundle = (name) => {
  const out = path.join(ROOT, "dist", "bench", `${name}.mjs`);
  run("npx", ["esbuild", `bench/${name}.ts`, "--bundle", "--platform=node", "--target=node20", "--format=esm", "--packages=external", `--outfile=${out}`, "--log-level=warning"]);
  return out;
};
// Not benchmarks: the raw baseline server and the load generator's threads, run by them.
bundle("baseline");
bundle("viewer-worker");
// `npm run bench -- latency fanout` runs only those.
const chosen = process.argv.slice(2);
for (const name of ["replay", "control", "latency", "fanout", "connections"]) {
  if (chosen.length > 0 && !chosen.includes(name)) continue;
  const out = bundle(name);
  log(`benchmark: ${name}`);
  run(process.execPath, [out]);
}
