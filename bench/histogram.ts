/**
 * A latency histogram that thousands of viewers can share and threads can merge: log-scale
 * buckets 1 % wide from 1 µs (so percentiles are within 1 %), plus the exact maximum.
 */
const GROWTH = Math.log(1.01);
const BUCKETS = 2_100; // 1 µs × 1.01^2100 ≈ 1,200 s

export interface HistogramJson {
  buckets: number[];
  max: number;
  count: number;
}

export class Histogram {
  private buckets = new Uint32Array(BUCKETS);
  max = 0;
  count = 0;

  record(ms: number): void {
    const micros = Math.max(1, ms * 1_000);
    this.buckets[Math.min(BUCKETS - 1, Math.ceil(Math.log(micros) / GROWTH))]!++;
    if (ms > this.max) this.max = ms;
    this.count++;
  }

  merge(other: HistogramJson): void {
    other.buckets.forEach((n, i) => (this.buckets[i]! += n));
    this.max = Math.max(this.max, other.max);
    this.count += other.count;
  }

  /** The upper bound of the bucket holding the p-th percentile, in ms (never above the max). */
  percentile(p: number): number {
    if (this.count === 0) return NaN;
    const rank = Math.ceil((p / 100) * this.count);
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.buckets[i]!;
      if (seen >= rank) return Math.min(this.max, Math.exp(i * GROWTH) / 1_000);
    }
    return this.max;
  }

  toJSON(): HistogramJson {
    return { buckets: Array.from(this.buckets), max: this.max, count: this.count };
  }
}
