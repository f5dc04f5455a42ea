/**
 * The load generator: SSE viewers spread over worker threads (bench/viewer-worker.ts), so the
 * generator is not what limits the figures, and its own CPU use, reported with every scenario.
 */
import path from "node:path";
import { Worker } from "node:worker_threads";
import { ROOT } from "../scripts/lib/system.mjs";
import { Histogram, type HistogramJson } from "./histogram";

interface Stats {
  histogram: HistogramJson;
  byUrl: Record<string, { viewers: number; received: number }>;
  open: number;
}

export interface PoolStats {
  histogram: Histogram;
  /** Per stream URL: viewers and the events they received in total. */
  byUrl: Map<string, { viewers: number; received: number }>;
  open: number;
}

export class ViewerPool {
  private readonly workers: Worker[];
  private nextId = 0;
  private readonly pending = new Map<number, (body: unknown) => void>();
  private turn = 0;

  constructor(threads = 3) {
    const script = path.join(ROOT, "dist", "bench", "viewer-worker.mjs");
    this.workers = Array.from({ length: threads }, () => {
      const worker = new Worker(script);
      worker.on("message", (body: { id: number }) => this.pending.get(body.id)?.(body));
      worker.on("error", (error) => console.error(`[bench] viewer thread failed: ${error.message}`));
      return worker;
    });
  }

  private ask<T>(worker: Worker, command: object): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve) => {
      this.pending.set(id, (body) => {
        this.pending.delete(id);
        resolve(body as T);
      });
      worker.postMessage({ id, ...command });
    });
  }

  private all<T>(command: object): Promise<T[]> {
    return Promise.all(this.workers.map((w) => this.ask<T>(w, command)));
  }

  /** Opens one viewer per URL (repeat a URL for several viewers), dealt round-robin to threads. */
  async open(urls: string[], concurrency = 64): Promise<{ ok: number; failed: number; error: string }> {
    const share: string[][] = this.workers.map(() => []);
    for (const url of urls) share[this.turn++ % this.workers.length]!.push(url);
    const results = await Promise.all(this.workers.map((w, i) => this.ask<{ ok: number; failed: number; error: string }>(w, { type: "open", urls: share[i], concurrency })));
    return { ok: results.reduce((n, r) => n + r.ok, 0), failed: results.reduce((n, r) => n + r.failed, 0), error: results.find((r) => r.error)?.error ?? "" };
  }

  async reset(): Promise<void> {
    await this.all({ type: "reset" });
  }

  async stats(): Promise<PoolStats> {
    const parts = await this.all<Stats>({ type: "stats" });
    const histogram = new Histogram();
    const byUrl = new Map<string, { viewers: number; received: number }>();
    for (const part of parts) {
      histogram.merge(part.histogram);
      for (const [url, { viewers, received }] of Object.entries(part.byUrl)) {
        const entry = byUrl.get(url) ?? { viewers: 0, received: 0 };
        entry.viewers += viewers;
        entry.received += received;
        byUrl.set(url, entry);
      }
    }
    return { histogram, byUrl, open: parts.reduce((n, p) => n + p.open, 0) };
  }

  /**
   * Waits until every viewer has what was published (or nothing more arrives for `quietMs`),
   * then returns the stats and the events lost: expected (published × viewers) − received.
   */
  async settle(expectedPerUrl: (url: string) => number, quietMs = 1_500, maxMs = 15_000): Promise<PoolStats & { lost: number; expected: number }> {
    let last = -1;
    let quietSince = Date.now();
    const deadline = Date.now() + maxMs;
    for (;;) {
      const stats = await this.stats();
      let expected = 0;
      let received = 0;
      for (const [url, entry] of stats.byUrl) {
        expected += expectedPerUrl(url) * entry.viewers;
        received += Math.min(entry.received, expectedPerUrl(url) * entry.viewers);
      }
      if (received >= expected || (received === last && Date.now() - quietSince > quietMs) || Date.now() > deadline) return { ...stats, lost: expected - received, expected };
      if (received !== last) quietSince = Date.now();
      last = received;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async close(): Promise<void> {
    await this.all({ type: "close" });
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** CPU the generator process (all its threads) used per second of wall time, in % of one core. */
export function cpuMeter(): () => number {
  const cpu = process.cpuUsage();
  const started = performance.now();
  return () => {
    const used = process.cpuUsage(cpu);
    return Math.round(((used.user + used.system) / 1_000 / (performance.now() - started)) * 100);
  };
}
