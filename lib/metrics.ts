/**
 * Prometheus metrics (prom-client), served by GET /api/metrics.
 *
 * One registry and one set of metric objects per process, cached on globalThis: `next dev`
 * re-evaluates modules on every edit, and registering a metric name twice throws. This
 * module imports nothing of ours but the breaker's state names, so the SSE connection and the
 * Redis clients can record into it without import cycles; the values read from Redis at scrape time (runs by status,
 * Redis up) are filled in by lib/metrics-scrape.ts.
 */
import "server-only";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { BREAKER_STATES, type BreakerState } from "./redis-breaker";

/** Which kind of SSE stream a connection is: the `backend` label. */
export const SSE_BACKENDS = ["redis", "kubectl", "control", "runs_feed"] as const;
export type SseBackend = (typeof SSE_BACKENDS)[number];

/** The two Redis connections of a server process (lib/redis.ts): the `connection` label. */
export const REDIS_CONNECTIONS = ["command", "subscriber"] as const;
export type RedisConnectionRole = (typeof REDIS_CONNECTIONS)[number];

/** Routes with a rate limit (lib/rate-limit.ts): the `route` label of their 429s. */
export const RATE_LIMITED_ROUTES = [
  "POST /api/v1/runs",
  "POST /api/v1/runs/[runId]/control",
  "POST /api/v1/runs/[runId]/select",
  "POST /api/v1/runs/[runId]/events",
  "POST /api/v1/runs/[runId]/heartbeat",
  "POST /api/v1/session",
] as const;
export type RateLimitedRoute = (typeof RATE_LIMITED_ROUTES)[number];
/** Why a message was dead-lettered (lib/dead-letter.ts): the `reason` label. */
export const DEAD_LETTER_REASONS = ["not_json", "invalid", "too_large", "wrong_run", "unknown_variation", "mismatch", "malformed_entry"] as const;
export type DeadLetterReason = (typeof DEAD_LETTER_REASONS)[number];

function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const metrics = {
    registry,
    connectionsOpen: new Gauge({
      name: "runwatch_sse_connections_open",
      help: "SSE connections open now, by backend (redis, kubectl: run viewers; control: agents' control streams; runs_feed: the runs list)",
      labelNames: ["backend"],
      registers,
    }),
    eventsDelivered: new Counter({
      name: "runwatch_sse_events_delivered_total",
      help: "SSE events written to a connection (history and live; heartbeat and stream_open not counted), by backend",
      labelNames: ["backend"],
      registers,
      // Counted on the fan-out's hot path into a plain object (countDelivered); handed over here.
      collect() {
        for (const backend of SSE_BACKENDS) {
          const count = uncollectedDeliveries[backend];
          if (count === 0) continue;
          uncollectedDeliveries[backend] = 0;
          this.inc({ backend }, count);
        }
      },
    }),
    deliveryLatency: new Histogram({
      name: "runwatch_sse_delivery_latency_seconds",
      help: "From a live message's timestamp (set by its agent, or by the server for control messages) to its SSE events being written to this process's viewers, observed once per message however many viewers it went to (a control message: once per agent's control stream it went to); replayed history is not observed",
      labelNames: ["backend"],
      // Sub-millisecond on one machine up to a badly lagging viewer; p99 targets are around 100 ms.
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    eventsReplayed: new Counter({
      name: "runwatch_sse_events_replayed_total",
      help: "SSE events sent from a run's stored history (a viewer opening or resuming a run), by backend",
      labelNames: ["backend"],
      registers,
    }),
    slowViewersDropped: new Counter({
      name: "runwatch_sse_slow_viewers_dropped_total",
      help: "Connections cut off because the viewer stopped reading (over MAX_BUFFERED_BYTES queued), by backend",
      labelNames: ["backend"],
      registers,
    }),
    redisReconnects: new Counter({
      name: "runwatch_redis_reconnects_total",
      help: "Reconnection attempts of the server's Redis connections, by connection (command, subscriber)",
      labelNames: ["connection"],
      registers,
    }),
    rateLimited: new Counter({
      name: "runwatch_http_rate_limited_total",
      help: "Requests answered 429 by a rate limit (RATE_LIMIT_*), by route",
      labelNames: ["route"],
      registers,
    }),
    runsByStatus: new Gauge({
      name: "runwatch_runs",
      help: "Runs in the runs list by status (running, completed), read from Redis at scrape time; absent when Redis is down",
      labelNames: ["status"],
      registers,
    }),
    redisCircuitState: new Gauge({
      name: "runwatch_redis_circuit_state",
      help: "The Redis command client's circuit breaker: 1 for its current state (closed: commands go to Redis; open: refused at once with 503; half_open: a probe PING is out), 0 for the others",
      labelNames: ["state"],
      registers,
    }),
    deadLetters: new Counter({
      name: "runwatch_dead_letters_total",
      help: "Agent messages rejected by validation and kept in their run's dead-letter stream, by reason (counted once, by the instance that stored it)",
      labelNames: ["reason"],
      registers,
    }),
    redisUp: new Gauge({
      name: "runwatch_redis_up",
      help: "1 if Redis answered the last scrape's queries, else 0",
      registers,
    }),
  };
  // Every series exists from the start at 0, so rate() and alerts see the first increment.
  for (const backend of SSE_BACKENDS) {
    metrics.connectionsOpen.set({ backend }, 0);
    metrics.eventsDelivered.inc({ backend }, 0);
    metrics.eventsReplayed.inc({ backend }, 0);
    metrics.slowViewersDropped.inc({ backend }, 0);
  }
  for (const connection of REDIS_CONNECTIONS) metrics.redisReconnects.inc({ connection }, 0);
  for (const route of RATE_LIMITED_ROUTES) metrics.rateLimited.inc({ route }, 0);
  for (const state of BREAKER_STATES) metrics.redisCircuitState.set({ state }, state === "closed" ? 1 : 0);
  for (const reason of DEAD_LETTER_REASONS) metrics.deadLetters.inc({ reason }, 0);
  // Only these backends can tell live messages from history (see recordMessageDelivered's callers).
  for (const backend of ["redis", "control"] as const) metrics.deliveryLatency.zero({ backend });
  return metrics;
}

export type Metrics = ReturnType<typeof createMetrics>;

const globalForMetrics = globalThis as unknown as { runwatchMetrics?: Metrics; runwatchDeliveries?: Record<SseBackend, number> };

/** Process-wide like the metrics (Next may load this module more than once). */
const uncollectedDeliveries = (globalForMetrics.runwatchDeliveries ??= { redis: 0, kubectl: 0, control: 0, runs_feed: 0 });

/**
 * `count` events written to a viewer: runwatch_sse_events_delivered_total. An addition, not a
 * prom-client call (which hashes its labels each time): 1,000 viewers of a run make this 1,000
 * times per message.
 */
export function countDelivered(backend: SseBackend, count: number): void {
  uncollectedDeliveries[backend] += count;
}

export function metrics(): Metrics {
  globalForMetrics.runwatchMetrics ??= createMetrics();
  return globalForMetrics.runwatchMetrics;
}

export function setRedisCircuitState(current: BreakerState): void {
  for (const state of BREAKER_STATES) metrics().redisCircuitState.set({ state }, state === current ? 1 : 0);
}

/** One label object per backend, not one per live message (prom-client only reads it). */
const BACKEND_LABELS = Object.fromEntries(SSE_BACKENDS.map((backend) => [backend, Object.freeze({ backend })])) as Record<SseBackend, { backend: SseBackend }>;

/**
 * One agent message written to a viewer as `eventCount` SSE events. Live: its latency is
 * observed. From the history: counted as replayed; its timestamp says when it happened, not
 * how late we are, so it stays out of the latency histogram.
 */
export function recordMessageDelivered(backend: SseBackend, timestamp: string, source: "live" | "replay", eventCount = 1): void {
  if (source === "replay") {
    metrics().eventsReplayed.inc(BACKEND_LABELS[backend], eventCount);
    return;
  }
  const sentAt = Date.parse(timestamp);
  if (Number.isNaN(sentAt)) return;
  // Agents' clocks may run a little ahead of ours; a negative delay means "no delay".
  metrics().deliveryLatency.observe(BACKEND_LABELS[backend], Math.max(0, Date.now() - sentAt) / 1000);
}
