/**
 * Connections: as many concurrent viewers on one server process as hold, up to 10,000 (steps
 * of 1,000, 5,000, 10,000 over 10 runs), with the server's RSS per viewer (VmRSS of the process
 * holding the sockets, marginal over the first 100 viewers) and the Redis connections it uses
 * (CLIENT LIST names). "Holds" means every viewer is open and receives one more message per run.
 * Runwatch (`next start`, /stream/redis) against the raw baseline (bench/baseline.ts).
 * The generator holds up to 10,000 client sockets: `ulimit -n` must allow it (checked below).
 */
import Redis from "ioredis";
import { execSync } from "node:child_process";
import { createRuns, publishAtRate } from "./publisher";
import { machine, rssBytes, runBench, servingPid, withAppAndBaseline, APP_LABEL } from "./support";
import { cpuMeter, ViewerPool } from "./viewers";

const RUNS = 10;
const STEPS = [1_000, 5_000, 10_000];
const WARM = 100;

interface Step {
  viewers: number;
  open: number;
  lost: number;
  rss_mib: number;
  rss_kib_per_viewer: number;
  redis_connections: number;
}

async function redisConnections(redis: Redis, prefix: string): Promise<number> {
  const list = (await redis.client("LIST")) as string;
  return list.split("\n").filter((line) => new RegExp(`\\bname=${prefix}`).test(line)).length;
}

async function climb(redis: Redis, runIds: string[], urlOf: (runId: string) => string, pid: number, prefix: string): Promise<{ held: number; steps: Step[]; generator_cpu_pct: number }> {
  const pool = new ViewerPool(2);
  const cpu = cpuMeter();
  const steps: Step[] = [];
  let held = 0;
  let opened = 0;
  const runOf = new Map(runIds.map((id) => [urlOf(id), id]));
  const openMore = async (n: number) => {
    const urls = Array.from({ length: n }, (_, i) => urlOf(runIds[(opened + i) % runIds.length]!));
    opened += n;
    return pool.open(urls, 32);
  };
  try {
    await openMore(WARM);
    await new Promise((r) => setTimeout(r, 1_000));
    const before = rssBytes(pid);
    for (const target of STEPS) {
      const result = await openMore(target - opened);
      await new Promise((r) => setTimeout(r, 2_000));
      const rss = rssBytes(pid);
      await pool.reset();
      const published = await publishAtRate(redis, runIds, 20, 1);
      const stats = await pool.settle((url) => published.get(runOf.get(url)!) ?? 0, 3_000, 30_000);
      const step = { viewers: target, open: stats.open, lost: stats.lost, rss_mib: Math.round(rss / 2 ** 20), rss_kib_per_viewer: Number(((rss - before) / 1024 / (target - WARM)).toFixed(1)), redis_connections: await redisConnections(redis, prefix) };
      steps.push(step);
      console.log(`  ${prefix} ${target} viewers: ${step.open} open (${result.failed} failed to open${result.error ? `: ${result.error}` : ""}), ${step.lost} events lost, RSS ${step.rss_mib} MiB (${step.rss_kib_per_viewer} KiB per viewer), ${step.redis_connections} Redis connections`);
      if (step.open < target || step.lost > 0) break;
      held = target;
    }
    return { held, steps, generator_cpu_pct: cpu() };
  } finally {
    await pool.close();
  }
}

async function main(): Promise<void> {
  const limit = Number(execSync("ulimit -n", { shell: "/bin/sh" }).toString().trim());
  if (limit < STEPS.at(-1)! + 1_000) console.warn(`[bench] ulimit -n is ${limit}: too few file descriptors for ${STEPS.at(-1)} viewers; raise it (ulimit -n 20000) before npm run bench`);
  await withAppAndBaseline(async ({ app, baseline, redis }) => {
    const runIds = await createRuns(redis, RUNS);
    // Warm the route once, so the first measured viewers do not pay for loading its code.
    await fetch(`${app.url}/api/v1/runs/${runIds[0]}`).then((r) => r.text());
    const runwatch = await climb(redis, runIds, (id) => `${app.url}/api/v1/runs/${id}/stream/redis`, servingPid(app.pid), "runwatch:");
    const raw = await climb(redis, runIds, (id) => `${baseline.url}/runs/${id}/stream`, baseline.pid, "baseline:");
    const last = (r: typeof runwatch) => r.steps.at(-1);
    const result = {
      scenario: "connections",
      date: new Date().toISOString(),
      machine: machine(),
      fd_limit: limit,
      runwatch_max_viewers: runwatch.held,
      baseline_max_viewers: raw.held,
      runwatch_kib_per_viewer: last(runwatch)?.rss_kib_per_viewer,
      baseline_kib_per_viewer: last(raw)?.rss_kib_per_viewer,
      runwatch_redis_connections: last(runwatch)?.redis_connections,
      baseline_redis_connections: last(raw)?.redis_connections,
      ratio_kib_per_viewer: Number(((last(runwatch)?.rss_kib_per_viewer ?? NaN) / (last(raw)?.rss_kib_per_viewer ?? NaN)).toFixed(2)),
      runwatch_generator_cpu_pct: runwatch.generator_cpu_pct,
      baseline_generator_cpu_pct: raw.generator_cpu_pct,
      runwatch_steps: runwatch.steps,
      baseline_steps: raw.steps,
    };
    console.log(`\nconnections: concurrent viewers on one process (over ${RUNS} runs), RSS per viewer, Redis connections`);
    console.log(`  ${APP_LABEL}   ${runwatch.held} held, ${result.runwatch_kib_per_viewer} KiB per viewer, ${result.runwatch_redis_connections} Redis connections`);
    console.log(`  raw baseline (node:http + psubscribe)  ${raw.held} held, ${result.baseline_kib_per_viewer} KiB per viewer, ${result.baseline_redis_connections} Redis connections`);
    console.log(`  Runwatch / baseline                    ${result.ratio_kib_per_viewer}x memory per viewer\n`);
    console.log(JSON.stringify(result));
  });
}

runBench(main);
