/**
 * `npm start`: everything needed to see Runwatch work, from a fresh clone.
 *
 *  1. install npm dependencies if missing;
 *  2. unless REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES is set, run a local redis-server (installing Debian's package when
 *     missing and we are root), data kept in .data/redis with AOF;
 *  3. build if the production build is missing or stale;
 *  4. Runwatch's server (server.mjs: the production build through Next's request handler, with
 *     the run stream written straight to the socket) on PORT (default 3000), wait for
 *     /api/health, print the URL;
 *  5. create a demo run if there are none yet, so there is something live to watch.
 *
 * Flags (used by the Playwright config): --ephemeral (throwaway Redis, no persistence),
 * --no-install, --no-build, --no-demo, --port N.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ensureBuild } from "./lib/build.mjs";
import { startRedis } from "./lib/redis.mjs";
import { ensureNodeModules, isPortFree, log, ROOT } from "./lib/system.mjs";
import { serverArgs } from "./lib/server-node.mjs";

const argv = process.argv.slice(2);
const flag = (name) => argv.includes(name);
const portArg = argv.indexOf("--port");
const port = Number(portArg >= 0 ? argv[portArg + 1] : (process.env.PORT ?? 3000));
const dataDir = path.resolve(ROOT, process.env.RUNWATCH_DATA_DIR ?? ".data");
// Localhost only unless asked: anyone who can reach the app can start agent processes.
const host = process.env.HOST ?? "127.0.0.1";

/** @type {(() => Promise<void>)[]} */
const cleanups = [];
let stopping = false;

async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  process.exit(code);
}

async function waitForHealth(url, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer";
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url);
      if (response.ok) return;
      last = `${response.status} ${await response.text()}`;
    } catch (error) {
      last = /** @type {Error} */ (error).message;
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`the app did not become healthy within ${timeoutMs / 1000} s (last answer: ${last})`);
}

async function startDemoRunIfEmpty(baseUrl) {
  if (process.env.RUNWATCH_START_DEMO === "0" || flag("--no-demo")) return;
  // With RUNWATCH_AUTH=token the demo run is started as the admin; without the token, no demo.
  const admin = process.env.RUNWATCH_ADMIN_TOKEN;
  const auth = admin ? { Authorization: `Bearer ${admin}` } : {};
  const list = await fetch(`${baseUrl}/api/v1/runs`, { headers: auth });
  if (list.status === 401) return log("sign-in is on: set RUNWATCH_ADMIN_TOKEN in npm start's environment for a demo run");
  const { runs } = await list.json();
  if (runs.length > 0) return;
  const response = await fetch(`${baseUrl}/api/v1/runs`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...auth },
    body: JSON.stringify({ prompt: "Add retry with exponential backoff to our HTTP client, with tests.", variations: 3, agent: "demo" }),
  });
  if (!response.ok) throw new Error(`could not create the demo run: ${response.status} ${await response.text()}`);
  const { run_id } = await response.json();
  log(`a demo run is streaming now: ${baseUrl}/runs/${run_id}`);
}

async function main() {
  process.on("SIGINT", () => void shutdown(130));
  process.on("SIGTERM", () => void shutdown(143));

  if (!flag("--no-install")) ensureNodeModules();
  if (!(await isPortFree(port, host))) throw new Error(`port ${port} is in use: stop what runs there or set PORT to another port`);

  // HOST too: the app lets RUNWATCH_AUTH default to none only on a loopback address (lib/env.ts).
  const env = { ...process.env, HOST: host, PORT: String(port), RUNWATCH_DATA_DIR: dataDir, NEXT_TELEMETRY_DISABLED: "1" };
  // Sentinel or Cluster: the Redis is the user's, whatever REDIS_URL says (then only credentials).
  const ownRedis = env.REDIS_SENTINELS || env.REDIS_CLUSTER_NODES;
  if (!env.REDIS_URL && !ownRedis) {
    const ephemeral = flag("--ephemeral");
    const dir = ephemeral ? fs.mkdtempSync(path.join(os.tmpdir(), "runwatch-redis-")) : path.join(dataDir, "redis");
    const redis = await startRedis({ dir, persistent: !ephemeral });
    cleanups.push(() => redis.stop());
    if (ephemeral) cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
    redis.child.once("exit", (code) => {
      if (!stopping) log(`redis-server exited unexpectedly (code ${code}); the app reports Redis as down until it is back`);
    });
    env.REDIS_URL = redis.url;
    log(`local redis-server at ${redis.url} (data in ${path.relative(ROOT, dir) || dir}${ephemeral ? ", not persisted" : ", AOF every second"})`);
  } else {
    log(ownRedis ? `using ${env.REDIS_CLUSTER_NODES ? "Redis Cluster REDIS_CLUSTER_NODES" : "Redis Sentinel REDIS_SENTINELS"} from the environment` : `using REDIS_URL from the environment`);
  }

  if (!flag("--no-build")) ensureBuild();

  const next = spawn(process.execPath, serverArgs(port, host), {
    cwd: ROOT,
    env,
    stdio: ["ignore", "inherit", "inherit"],
  });
  cleanups.push(async () => {
    if (next.exitCode === null) next.kill("SIGTERM");
  });
  next.once("exit", (code) => {
    if (!stopping) {
      log(`the app exited (code ${code})`);
      void shutdown(code ?? 1);
    }
  });

  const baseUrl = `http://${host === "0.0.0.0" || host === "::" ? "localhost" : host.includes(":") ? `[${host}]` : host}:${port}`;
  await waitForHealth(`${baseUrl}/api/health`, 60_000);
  log(`Runwatch is running at ${baseUrl}  (Ctrl-C stops it)`);
  await startDemoRunIfEmpty(baseUrl).catch((error) => log(`demo run not started: ${error.message}`));
}

main().catch((error) => {
  process.stderr.write(`[runwatch] npm start failed: ${error.message}\n`);
  void shutdown(1);
});
