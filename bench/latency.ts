/**
 * Latency under load: 100 viewers over 10 runs while 1,000 messages/s in total are published
 * for 20 s (after an uncounted 2 s warm-up); publish → event parsed at the viewer, p50/p99/max.
 * Runwatch (server.mjs, /stream/redis) against the raw baseline (bench/baseline.ts), the same publishes through the
 * same script on the same redis-server. Prints a table and one JSON line.
 */
import Redis from "ioredis";
import { createRuns, publishAtRate } from "./publisher";
import { machine, runBench, withAppAndBaseline, APP_LABEL } from "./support";
import { cpuMeter, ViewerPool } from "./viewers";

const RUNS = 10;
const VIEWERS = 100;
const RATE = 1_000;
const SECONDS = Number(process.env.BENCH_LATENCY_SECONDS ?? 20);
const WARMUP_SECONDS = 2;

interface Measured {
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  events: number;
  lost: number;
  generator_cpu_pct: number;
}

async function measure(redis: Redis, runIds: string[], urlOf: (runId: string) => string): Promise<Measured> {
  const pool = new ViewerPool(2);
  try {
    const runOf = new Map(runIds.map((id) => [urlOf(id), id]));
    const opened = await pool.open(Array.from({ length: VIEWERS }, (_, i) => urlOf(runIds[i % runIds.length]!)));
    if (opened.failed > 0) throw new Error(`${opened.failed} of ${VIEWERS} viewers did not open (${opened.error})`);
    // Warm-up, not counted, the same for both sides: the first messages through a fresh process
    // pay for compiling its code paths (measured: nearly all of Runwatch's events over 20 ms fell
    // in the first 0.3 s of a run without it), which is start-up cost, not latency under load.
    await publishAtRate(redis, runIds, RATE, WARMUP_SECONDS);
    await new Promise((r) => setTimeout(r, 1_000));
    await pool.reset();
    const cpu = cpuMeter();
    const published = await publishAtRate(redis, runIds, RATE, SECONDS);
    const stats = await pool.settle((url) => published.get(runOf.get(url)!) ?? 0);
    const fmt = (n: number) => Number(n.toFixed(2));
    return { p50_ms: fmt(stats.histogram.percentile(50)), p99_ms: fmt(stats.histogram.percentile(99)), max_ms: fmt(stats.histogram.max), events: stats.histogram.count, lost: stats.lost, generator_cpu_pct: cpu() };
  } finally {
    await pool.close();
  }
}

async function main(): Promise<void> {
  await withAppAndBaseline(async ({ app, baseline, redis }) => {
    const runIds = await createRuns(redis, RUNS);
    const runwatch = await measure(redis, runIds, (id) => `${app.url}/api/v1/runs/${id}/stream/redis`);
    const raw = await measure(redis, runIds, (id) => `${baseline.url}/runs/${id}/stream`);
    const ratio = (a: number, b: number) => Number((a / b).toFixed(2));
    const result = {
      scenario: "latency",
      date: new Date().toISOString(),
      machine: machine(),
      viewers: VIEWERS,
      runs: RUNS,
      rate_per_s: RATE,
      seconds: SECONDS,
      runwatch,
      baseline: raw,
      ratio_p50: ratio(runwatch.p50_ms, raw.p50_ms),
      ratio_p99: ratio(runwatch.p99_ms, raw.p99_ms),
      ratio_max: ratio(runwatch.max_ms, raw.max_ms),
    };
    const row = (m: Measured) => `p50 ${m.p50_ms} ms   p99 ${m.p99_ms} ms   max ${m.max_ms} ms   ${m.events} events, ${m.lost} lost, generator CPU ${m.generator_cpu_pct} %`;
    console.log(`\nlatency: ${VIEWERS} viewers over ${RUNS} runs, ${RATE} messages/s for ${SECONDS} s, publish → event parsed`);
    console.log(`  ${APP_LABEL}   ${row(runwatch)}`);
    console.log(`  raw baseline (node:http + psubscribe)  ${row(raw)}`);
    console.log(`  Runwatch / baseline                    p50 ${result.ratio_p50}x   p99 ${result.ratio_p99}x   max ${result.ratio_max}x\n`);
    console.log(JSON.stringify(result));
  });
}

runBench(main);
