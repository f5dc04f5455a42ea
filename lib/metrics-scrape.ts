/**
 * One scrape of /api/metrics: the gauges that are read from Redis (runs by status, Redis up)
 * are refreshed, then the whole registry is rendered in Prometheus' text format.
 *
 * A scrape never fails because Redis is down: it then reports runwatch_redis_up 0, no
 * runwatch_runs series, and everything this process counts itself.
 */
import "server-only";
import { RUN_STATUSES } from "./events";
import { componentLogger } from "./log";
import { metrics } from "./metrics";
import { listRuns } from "./runs";
import { withTimeout } from "./timeout";

/**
 * Runs counted per scrape, newest first. Every run in the list costs two HGETALLs; running
 * runs are the newest, so a cap bounds the scrape's cost without hiding them.
 */
export const METRICS_RUNS_LIMIT = 1_000;
/** Prometheus' default scrape timeout is 10 s; a stalled Redis must not use it all. */
const REDIS_TIMEOUT_MS = 2_000;

async function refreshRedisGauges(): Promise<void> {
  const { runsByStatus, redisUp } = metrics();
  try {
    const runs = await withTimeout(listRuns(METRICS_RUNS_LIMIT), REDIS_TIMEOUT_MS, `Redis did not answer within ${REDIS_TIMEOUT_MS} ms`);
    const counts = Object.fromEntries(RUN_STATUSES.map((status) => [status, 0]));
    for (const run of runs) counts[run.status] = (counts[run.status] ?? 0) + 1;
    runsByStatus.reset();
    for (const [status, count] of Object.entries(counts)) runsByStatus.set({ status }, count);
    redisUp.set(1);
  } catch (error) {
    // Old counts would look current: report none rather than stale ones.
    runsByStatus.reset();
    redisUp.set(0);
    componentLogger("metrics").warn({ err: error }, "metrics scrape could not read runs from Redis");
  }
}

export async function scrapeMetrics(): Promise<{ contentType: string; body: string }> {
  await refreshRedisGauges();
  const { registry } = metrics();
  return { contentType: registry.contentType, body: await registry.metrics() };
}
