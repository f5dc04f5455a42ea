/** Make the production build when it is missing or older than the sources. */
import fs from "node:fs";
import path from "node:path";
import { log, ROOT, run } from "./system.mjs";

const SOURCES = ["app", "components", "lib", "hooks", "agent", "public", "next.config.ts", "package-lock.json", "postcss.config.mjs", "tsconfig.json"];
const STAMP = path.join(ROOT, ".next", "runwatch-build.json");

function newestMtime(entry) {
  const full = path.join(ROOT, entry);
  if (!fs.existsSync(full)) return 0;
  const stat = fs.statSync(full);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const child of fs.readdirSync(full)) newest = Math.max(newest, newestMtime(path.join(entry, child)));
  return newest;
}

/**
 * Build-time inputs baked into the bundle: a change means a rebuild. None today: the
 * streaming backend is read by the server per request (lib/env.ts).
 */
function buildInputs() {
  return {};
}

export function buildReason() {
  if (!fs.existsSync(path.join(ROOT, ".next", "BUILD_ID"))) return "no production build yet";
  if (!fs.existsSync(path.join(ROOT, "dist", "agent", "cli.mjs"))) return "the agent runtime is not built";
  if (!fs.existsSync(STAMP)) return "the build was not made by Runwatch's scripts";
  const stamp = JSON.parse(fs.readFileSync(STAMP, "utf8"));
  if (JSON.stringify(stamp.inputs) !== JSON.stringify(buildInputs())) return "build-time settings changed";
  const newest = Math.max(...SOURCES.map(newestMtime));
  if (newest > stamp.builtAt) return "sources changed since the last build";
  return null;
}

export function ensureBuild({ force = false } = {}) {
  const reason = force ? "a fresh build was asked for" : buildReason();
  if (!reason) return;
  log(`building (${reason})`);
  const startedAt = Date.now();
  run("npm", ["run", "build"], { env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" } });
  fs.writeFileSync(STAMP, JSON.stringify({ builtAt: startedAt, inputs: buildInputs() }));
}
