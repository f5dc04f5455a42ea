/**
 * Latency under load: 100 viewers over 10 runs while 1,000 messages/s in total are published
 * for 20 s (after an uncounted 2 s warm-up); publish → event parsed at the viewer, p50/p99/max.
 * Runwatch (server.mjs, /stream/redis) against the raw baseline (bench/baseline.ts), the same publishes through the
 * same script on the same redis-server. Prints a table and one JSON line.
 *
 * The 20 s are interleaved: 10 rounds of 2 s a side, in the order A B, B A, A B, … Measured one
 * side after the other, a minute in which the host (a shared VM) stole CPU fell on one side only
 * and the p99 ratio swung from 1.4× to 3.9× between two runs of the same code; interleaved, both
 * sides meet the same weather. Each side has runs of its own, so a message reaches one side only.
 */
import Redis from "ioredis";
import { Histogram } from "./histogram";
import { createRuns, publishAtRate } from "./publisher";
import { machine, median, processCpuMs, runBench, servingPid, withAppAndBaseline, APP_LABEL } from "./support";
import { ViewerPool } from "./viewers";

const RUNS = 10;
const VIEWERS = 100;
const RATE = 1_000;
const SECONDS = Number(process.env.BENCH_LATENCY_SECONDS ?? 20);
const ROUNDS = Math.max(1, Math.round(SECONDS / 2));
const WARMUP_SECONDS = 2;

interface Measured {
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  events: number;
  lost: number;
  generator_cpu_pct: number;
  /** The server's own CPU (user + system) per 1,000 messages published to it: what one message costs it. */
  server_cpu_ms_per_1000: number;
}

/** One side: its viewers, its runs, and what they have measured so far. */
class Side {
  readonly histogram = new Histogram();
  readonly roundP99: number[] = [];
  private readonly pool = new ViewerPool(2);
  private readonly runOf: Map<string, string>;
  private lost = 0;
  private cpuMicros = 0;
  private wallMs = 0;
  private serverCpuMs = 0;
  private published = 0;

  constructor(
    private readonly redis: Redis,
    private readonly runIds: string[],
    private readonly urlOf: (runId: string) => string,
    /** The process serving this side's viewers, for its CPU time. */
    private readonly serverPid: number,
  ) {
    this.runOf = new Map(runIds.map((id) => [urlOf(id), id]));
  }

  async open(): Promise<void> {
    const opened = await this.pool.open(Array.from({ length: VIEWERS }, (_, i) => this.urlOf(this.runIds[i % this.runIds.length]!)));
    if (opened.failed > 0) throw new Error(`${opened.failed} of ${VIEWERS} viewers did not open (${opened.error})`);
  }

  /**
   * Not counted, the same for both sides: the first messages through a fresh process pay for
   * compiling its code paths (measured: nearly all of Runwatch's events over 20 ms fell in the
   * first 0.3 s of a run without it), which is start-up cost, not latency under load.
   */
  async warmUp(): Promise<void> {
    await publishAtRate(this.redis, this.runIds, RATE, WARMUP_SECONDS);
    await new Promise((r) => setTimeout(r, 1_000));
  }

  /** One round: publish for `seconds`, wait until every viewer has it all, keep the figures. */
  async round(seconds: number): Promise<void> {
    await this.pool.reset();
    const cpu = process.cpuUsage();
    const serverCpu = processCpuMs(this.serverPid);
    const started = performance.now();
    const published = await publishAtRate(this.redis, this.runIds, RATE, seconds);
    const stats = await this.pool.settle((url) => published.get(this.runOf.get(url)!) ?? 0);
    const used = process.cpuUsage(cpu);
    this.serverCpuMs += processCpuMs(this.serverPid) - serverCpu;
    for (const count of published.values()) this.published += count;
    this.cpuMicros += used.user + used.system;
    this.wallMs += performance.now() - started;
    this.histogram.merge(stats.histogram.toJSON());
    this.roundP99.push(stats.histogram.percentile(99));
    this.lost += stats.lost;
  }

  result(): Measured {
    const fmt = (n: number) => Number(n.toFixed(2));
    const h = this.histogram;
    return { p50_ms: fmt(h.percentile(50)), p99_ms: fmt(h.percentile(99)), max_ms: fmt(h.max), events: h.count, lost: this.lost, generator_cpu_pct: Math.round((this.cpuMicros / 1_000 / this.wallMs) * 100), server_cpu_ms_per_1000: fmt((this.serverCpuMs / this.published) * 1_000) };
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

async function main(): Promise<void> {
  await withAppAndBaseline(async ({ app, baseline, redis }) => {
    const runwatchSide = new Side(redis, await createRuns(redis, RUNS), (id) => `${app.url}/api/v1/runs/${id}/stream/redis`, servingPid(app.pid));
    const baselineSide = new Side(redis, await createRuns(redis, RUNS), (id) => `${baseline.url}/runs/${id}/stream`, baseline.pid);
    try {
      await runwatchSide.open();
      await baselineSide.open();
      await runwatchSide.warmUp();
      await baselineSide.warmUp();
      for (let i = 0; i < ROUNDS; i++) {
        const order = i % 2 === 0 ? [runwatchSide, baselineSide] : [baselineSide, runwatchSide];
        for (const side of order) await side.round(SECONDS / ROUNDS);
      }
      const runwatch = runwatchSide.result();
      const raw = baselineSide.result();
      const round2 = (n: number) => Number(n.toFixed(2));
      const ratio = (a: number, b: number) => round2(a / b);
      // Each round's two sides ran back to back: their p99 ratio, round by round.
      const roundRatios = runwatchSide.roundP99.map((p, i) => p / baselineSide.roundP99[i]!);
      const result = {
        scenario: "latency",
        date: new Date().toISOString(),
        machine: machine(),
        viewers: VIEWERS,
        runs: RUNS,
        rate_per_s: RATE,
        seconds: SECONDS,
        rounds: ROUNDS,
        runwatch,
        baseline: raw,
        ratio_p50: ratio(runwatch.p50_ms, raw.p50_ms),
        ratio_p99: ratio(runwatch.p99_ms, raw.p99_ms),
        ratio_max: ratio(runwatch.max_ms, raw.max_ms),
        ratio_server_cpu: ratio(runwatch.server_cpu_ms_per_1000, raw.server_cpu_ms_per_1000),
        round_ratio_p99: { median: round2(median(roundRatios)), min: round2(Math.min(...roundRatios)), max: round2(Math.max(...roundRatios)) },
      };
      const row = (m: Measured) => `p50 ${m.p50_ms} ms   p99 ${m.p99_ms} ms   max ${m.max_ms} ms   ${m.events} events, ${m.lost} lost, server CPU ${m.server_cpu_ms_per_1000} ms / 1,000 msgs, generator CPU ${m.generator_cpu_pct} %`;
      console.log(`\nlatency: ${VIEWERS} viewers over ${RUNS} runs, ${RATE} messages/s for ${SECONDS} s (${ROUNDS} interleaved rounds a side), publish → event parsed`);
      console.log(`  ${APP_LABEL}   ${row(runwatch)}`);
      console.log(`  raw baseline (node:http + psubscribe)  ${row(raw)}`);
      console.log(`  Runwatch / baseline                    p50 ${result.ratio_p50}x   p99 ${result.ratio_p99}x   max ${result.ratio_max}x   server CPU ${result.ratio_server_cpu}x`);
      console.log(`  p99 ratio round by round               median ${result.round_ratio_p99.median}x   min ${result.round_ratio_p99.min}x   max ${result.round_ratio_p99.max}x\n`);
      console.log(JSON.stringify(result));
    } finally {
      await runwatchSide.close();
      await baselineSide.close();
    }
  });
}

runBench(main);
