/** What the benchmarks share: a production app on a throwaway redis-server, and statistics. */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Redis from "ioredis";
import { startRedis } from "../scripts/lib/redis.mjs";
import { SERVER_NODE_FLAGS, SERVER_SCRIPT } from "../scripts/lib/server-node.mjs";
import { freePort, ROOT } from "../scripts/lib/system.mjs";

export interface BenchApp {
  url: string;
  redisUrl: string;
  /** The server process this bench spawned. */
  pid: number;
  stop(): Promise<void>;
}

async function waitForHealth(url: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await fetch(url).then((r) => r.ok, () => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not become healthy`);
}

/**
 * What serves Runwatch in the bench: its own server (server.mjs, as `npm start` runs it), or
 * with BENCH_SERVER=next a bare `next start` of the same build, where the run stream goes
 * through Next's route handler (README, "Benchmark", compares the two).
 */
const VIA_NEXT_START = process.env.BENCH_SERVER === "next";
export const APP_LABEL = VIA_NEXT_START ? "Runwatch (next start, /stream/redis)" : "Runwatch (server.mjs, /stream/redis)";

/** The bench measures throughput: rate limits (lib/rate-limit.ts) off, 0 meaning "no limit". */
const NO_RATE_LIMITS = { RATE_LIMIT_RUN_CREATION: "0", RATE_LIMIT_CONTROL: "0", RATE_LIMIT_AGENT: "0", RATE_LIMIT_SIGN_IN: "0" };

/** Node flags from an env var, space-separated; undefined if the var is not set at all. */
function nodeFlagsFromEnv(name: string): string[] | undefined {
  return process.env[name]?.split(" ").filter(Boolean);
}

export async function startApp(env: Record<string, string>): Promise<BenchApp> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "runwatch-bench-"));
  const redisServer = await startRedis({ dir: path.join(dir, "redis"), persistent: false });
  const port = await freePort();
  const appLog = process.env.BENCH_APP_LOG ? fs.openSync(process.env.BENCH_APP_LOG, "a") : "ignore";
  // As npm start runs it, Node flags included (scripts/lib/server-node.mjs); BENCH_APP_NODE_FLAGS
  // replaces those flags (e.g. "" for Node's defaults), to measure what they change.
  const flags = nodeFlagsFromEnv("BENCH_APP_NODE_FLAGS") ?? SERVER_NODE_FLAGS;
  const entry = VIA_NEXT_START ? [path.join(ROOT, "node_modules", "next", "dist", "bin", "next"), "start"] : [SERVER_SCRIPT];
  // BENCH_APP_NODE_ARGS: more Node flags, ones NODE_OPTIONS refuses (e.g. `--cpu-prof --cpu-prof-dir=/tmp/p`).
  const nodeArgs = nodeFlagsFromEnv("BENCH_APP_NODE_ARGS") ?? [];
  const app: ChildProcess = spawn(process.execPath, [...flags, ...nodeArgs, ...entry, "-p", String(port), "-H", "127.0.0.1"], {
    cwd: ROOT,
    env: { ...process.env, ...(process.env.BENCH_APP_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_APP_NODE_OPTIONS } : {}), ...NO_RATE_LIMITS, HOST: "127.0.0.1", REDIS_URL: redisServer.url, RUNWATCH_DATA_DIR: path.join(dir, "data"), PORT: String(port), NEXT_TELEMETRY_DISABLED: "1", ...env },
    // BENCH_APP_LOG=<file>: the server's output goes there (its JSON log lines, a crash), not nowhere.
    stdio: ["ignore", appLog, appLog],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHealth(`${url}/api/health`);
  return {
    url,
    redisUrl: redisServer.url,
    pid: app.pid!,
    async stop() {
      app.kill("SIGTERM");
      await redisServer.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export const median = (values: readonly number[]) => percentile(values, 50);

export function machine(): string {
  return `${os.cpus().length} cpu, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`;
}

/** Resident memory of a process, in bytes (VmRSS of /proc/<pid>/status). */
export function rssBytes(pid: number): number {
  const line = fs.readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("VmRSS:"));
  return Number(line?.split(/\s+/)[1] ?? NaN) * 1024;
}

/**
 * CPU time a process has used so far (user + system), in ms: fields 14 and 15 of
 * /proc/<pid>/stat, in clock ticks of 10 ms (USER_HZ is 100 on Linux).
 */
export function processCpuMs(pid: number): number {
  const stat = readProc(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // After the ")" the state is field 3, so utime (14) and stime (15) are at 11 and 12.
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function readProc(file: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

/** The process and all its descendants (by the parent pid in /proc/<pid>/stat). */
function processTree(root: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readProc(`/proc/${entry}/stat`);
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    parents.set(Number(entry), ppid);
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) for (const [pid, ppid] of parents) if (ppid === tree[i]) tree.push(pid);
  return tree;
}

function safeReadlink(file: string): string {
  try {
    return fs.readlinkSync(file);
  } catch {
    return "";
  }
}

function socketCount(pid: number): number {
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).filter((fd) => safeReadlink(`/proc/${pid}/fd/${fd}`).startsWith("socket:")).length;
  } catch {
    return 0;
  }
}

/**
 * The process that serves the viewers: `next start` may run the server in a child
 * (`next-server`), so of the spawned process and its descendants, the one holding most sockets.
 */
export function servingPid(root: number): number {
  let best = root;
  let most = -1;
  for (const pid of processTree(root)) {
    const sockets = socketCount(pid);
    if (sockets > most) [best, most] = [pid, sockets];
  }
  return best;
}

/** `node dist/bench/baseline.mjs`: the raw baseline server in a process of its own. */
export async function startBaseline(redisUrl: string): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [...(nodeFlagsFromEnv("BENCH_BASELINE_NODE_ARGS") ?? []), path.join(ROOT, "dist", "bench", "baseline.mjs"), redisUrl], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once("data", (chunk: Buffer) => resolve((JSON.parse(chunk.toString()) as { port: number }).port));
    child.once("exit", (code) => reject(new Error(`the baseline server exited (${code})`)));
  });
  // Stopped before its Redis is: otherwise its subscriber could hit a closed Redis on the way out (EPIPE).
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    async stop() {
      child.kill("SIGTERM");
      await exited;
    },
  };
}

/** Run a benchmark's main; a failure is one clear line and exit code 1. */
export function runBench(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    console.error(`[runwatch] bench failed: ${(error as Error).message}`);
    process.exit(1);
  });
}

export interface AppAndBaseline {
  app: BenchApp;
  baseline: Awaited<ReturnType<typeof startBaseline>>;
  /** A client of the redis-server both read. */
  redis: Redis;
}

/** Runwatch and the raw baseline on one redis-server for `fn`, then stopped whatever happens. */
export async function withAppAndBaseline(fn: (context: AppAndBaseline) => Promise<void>): Promise<void> {
  const app = await startApp({});
  const baseline = await startBaseline(app.redisUrl);
  const redis = new Redis(app.redisUrl);
  try {
    await fn({ app, baseline, redis });
  } finally {
    redis.disconnect();
    await baseline.stop();
    await app.stop();
  }
}
