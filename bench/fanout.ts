/**
 * Fan-out: one run, 1,000 viewers; the message rate is stepped up (a few seconds a step) until
 * a step loses events or its p99 (publish → event parsed) exceeds 100 ms. The figure is the
 * highest rate that held, for Runwatch (`next start`, /stream/redis) and the raw baseline
 * (bench/baseline.ts), and their ratio. Prints a table and one JSON line.
 */
import Redis from "ioredis";
import { createRuns, publishAtRate } from "./publisher";
import { machine, runBench, withAppAndBaseline, APP_LABEL } from "./support";
import { cpuMeter, ViewerPool } from "./viewers";

const VIEWERS = 1_000;
// Low steps first: on a 2-core machine the server and the viewers' parsing share the cores.
const STEPS = [20, 50, 100, 200, 500, 1_000, 2_000, 5_000];
const STEP_SECONDS = 3;
const P99_LIMIT_MS = 100;

interface Step {
  rate: number;
  p99_ms: number;
  lost: number;
  viewers_still_open: number;
  generator_cpu_pct: number;
}

async function stepUp(redis: Redis, runId: string, url: string): Promise<{ held: number; lossless: number; steps: Step[] }> {
  const pool = new ViewerPool(2);
  const steps: Step[] = [];
  let held = 0;
  let lossless = 0;
  let withinLimit = true;
  try {
    const opened = await pool.open(Array.from({ length: VIEWERS }, () => url));
    if (opened.failed > 0) throw new Error(`${opened.failed} of ${VIEWERS} viewers did not open (${opened.error})`);
    // A warm-up step, not counted: JIT, the publish script's first EVAL, buffers.
    await publishAtRate(redis, [runId], STEPS[0]!, 2);
    await pool.settle(() => 0, 500, 5_000);
    for (const rate of STEPS) {
      await pool.reset();
      const cpu = cpuMeter();
      const published = await publishAtRate(redis, [runId], rate, STEP_SECONDS);
      const stats = await pool.settle(() => published.get(runId) ?? 0);
      const step = { rate, p99_ms: Number(stats.histogram.percentile(99).toFixed(2)), lost: stats.lost, viewers_still_open: stats.open, generator_cpu_pct: cpu() };
      steps.push(step);
      console.log(`  ${url.includes("/api/") ? "Runwatch" : "baseline"} ${rate} msg/s: p99 ${step.p99_ms} ms, ${step.lost} of ${stats.expected} lost, ${step.viewers_still_open} viewers still open, generator CPU ${step.generator_cpu_pct} %`);
      // Past the limit, keep stepping while nothing is lost and p99 stays under 1 s: the
      // highest lossless rate is the second figure, useful when no step meets the p99 limit.
      if (step.lost > 0 || step.p99_ms > 1_000) break;
      lossless = rate;
      withinLimit &&= step.p99_ms <= P99_LIMIT_MS;
      if (withinLimit) held = rate;
    }
    return { held, lossless, steps };
  } finally {
    await pool.close();
  }
}

async function main(): Promise<void> {
  await withAppAndBaseline(async ({ app, baseline, redis }) => {
    const [runwatchRun, baselineRun] = await createRuns(redis, 2);
    const runwatch = await stepUp(redis, runwatchRun!, `${app.url}/api/v1/runs/${runwatchRun}/stream/redis`);
    const raw = await stepUp(redis, baselineRun!, `${baseline.url}/runs/${baselineRun}/stream`);
    const result = {
      scenario: "fanout",
      date: new Date().toISOString(),
      machine: machine(),
      viewers: VIEWERS,
      step_seconds: STEP_SECONDS,
      p99_limit_ms: P99_LIMIT_MS,
      runwatch_max_rate: runwatch.held,
      baseline_max_rate: raw.held,
      ratio: raw.held > 0 ? Number((runwatch.held / raw.held).toFixed(2)) : null,
      runwatch_max_lossless_rate: runwatch.lossless,
      baseline_max_lossless_rate: raw.lossless,
      ratio_lossless: raw.lossless > 0 ? Number((runwatch.lossless / raw.lossless).toFixed(2)) : null,
      runwatch_steps: runwatch.steps,
      baseline_steps: raw.steps,
    };
    console.log(`\nfan-out: one run, ${VIEWERS} viewers, highest rate with no loss and p99 ≤ ${P99_LIMIT_MS} ms (steps of ${STEP_SECONDS} s: ${STEPS.join(", ")} msg/s)`);
    console.log(`  ${APP_LABEL}   ${runwatch.held} msg/s within ${P99_LIMIT_MS} ms; ${runwatch.lossless} msg/s without loss (p99 < 1 s)`);
    console.log(`  raw baseline (node:http + psubscribe)  ${raw.held} msg/s within ${P99_LIMIT_MS} ms; ${raw.lossless} msg/s without loss (p99 < 1 s)`);
    console.log(`  Runwatch / baseline                    ${result.ratio ?? "n/a"}x within ${P99_LIMIT_MS} ms; ${result.ratio_lossless ?? "n/a"}x without loss\n`);
    console.log(JSON.stringify(result));
  });
}

runBench(main);
