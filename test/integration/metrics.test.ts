/**
 * GET /api/metrics against a real redis-server: the text parses as Prometheus' format, and
 * each metric moves when what it counts happens (a viewer opens and leaves, agents publish, a
 * history is replayed, a run completes, a slow viewer is cut off, Redis goes away).
 *
 * runwatch_runs counts every run in Redis, and other suites create runs at the same time, so
 * this suite keeps its keys in a database of its own (pub/sub ignores databases, and run ids
 * are unique, so nothing else changes).
 */
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { GET as metricsRoute } from "@/app/api/metrics/route";
import { keys } from "@/lib/channels";
import type { SseEvent } from "@/lib/events";
import { publishMessage } from "@/lib/publish";
import { MAX_BUFFERED_BYTES, SseConnection } from "@/lib/sse-connection";
import { eventually, newRun, openStream, publishers, setupTestRedis } from "../support/helpers";
import { parsePrometheusText, sampleValue, type MetricFamily } from "../support/prometheus-text";

const METRICS_DB = 7;
const sharedUrl = process.env.REDIS_URL!;
const ownUrl = new URL(sharedUrl);
ownUrl.pathname = `/${METRICS_DB}`;
process.env.REDIS_URL = ownUrl.toString();
afterAll(() => {
  process.env.REDIS_URL = sharedUrl;
});

const redisClient = setupTestRedis();
beforeAll(async () => {
  await redisClient().flushdb();
});

type Families = Map<string, MetricFamily>;

async function scrape(route: (request: Request) => Promise<Response> = metricsRoute): Promise<Families> {
  const response = await route(new Request("http://localhost/api/metrics"));
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(await response.text());
}

const value = (families: Families, name: string, labels: Record<string, string> = {}) => sampleValue(families, name, labels) ?? Number.NaN;
const open = (families: Families, backend: string) => value(families, "runwatch_sse_connections_open", { backend });
const latency = (families: Families, suffix: "_count" | "_sum", backend = "redis") => value(families, `runwatch_sse_delivery_latency_seconds${suffix}`, { backend });
const latencyBucket = (families: Families, le: string) => value(families, "runwatch_sse_delivery_latency_seconds_bucket", { backend: "redis", le });

describe("GET /api/metrics", () => {
  it("answers Prometheus text with every Runwatch metric and Node's process metrics", async () => {
    const families = await scrape();
    const expected: [string, string][] = [
      ["runwatch_sse_connections_open", "gauge"],
      ["runwatch_sse_events_delivered_total", "counter"],
      ["runwatch_sse_delivery_latency_seconds", "histogram"],
      ["runwatch_sse_events_replayed_total", "counter"],
      ["runwatch_sse_slow_viewers_dropped_total", "counter"],
      ["runwatch_redis_reconnects_total", "counter"],
      ["runwatch_http_rate_limited_total", "counter"],
      ["runwatch_runs", "gauge"],
      ["runwatch_redis_up", "gauge"],
      ["process_cpu_user_seconds_total", "counter"],
      ["process_resident_memory_bytes", "gauge"],
      ["nodejs_eventloop_lag_seconds", "gauge"],
    ];
    for (const [name, type] of expected) {
      expect(families.get(name), name).toMatchObject({ name, type });
      expect(families.get(name)!.help.length, `${name} has help`).toBeGreaterThan(0);
    }
    expect(value(families, "runwatch_redis_up")).toBe(1);
    for (const backend of ["redis", "kubectl", "control", "runs_feed"]) {
      expect(open(families, backend), backend).toBeGreaterThanOrEqual(0);
      expect(value(families, "runwatch_sse_events_delivered_total", { backend }), backend).toBeGreaterThanOrEqual(0);
    }
    for (const connection of ["command", "subscriber"]) {
      expect(value(families, "runwatch_redis_reconnects_total", { connection }), connection).toBeGreaterThanOrEqual(0);
    }
  });

  it("counts an open viewer in runwatch_sse_connections_open{backend=redis} until it leaves", async () => {
    const run = await newRun(1);
    const before = await scrape();
    const { reader } = await openStream(run.runId);
    await reader!.waitForConnectionEvent("stream_open");
    const during = await scrape();
    expect(open(during, "redis")).toBe(open(before, "redis") + 1);
    expect(open(during, "kubectl")).toBe(open(before, "kubectl"));
    reader!.abort();
    await eventually(scrape, (after) => open(after, "redis") === open(before, "redis"));
  });

  it("counts live events delivered and observes their latency from the message's timestamp", async () => {
    const run = await newRun(2);
    const { reader } = await openStream(run.runId);
    await reader!.waitForConnectionEvent("stream_open");
    const before = await scrape();
    const [a] = publishers(redisClient(), run);
    for (const text of ["one", "two", "three"]) await a!.output(text);
    // Stamped 3 s ago: its latency must land between the 2.5 s and 5 s buckets.
    await publishMessage(redisClient(), {
      type: "output",
      content: "late",
      run_id: run.runId,
      variation_id: "var-2",
      sequence: 1,
      timestamp: new Date(Date.now() - 3_000).toISOString(),
      metadata: {},
    });
    await reader!.waitForEvents(4);
    // The viewer may read an event a moment before the server has counted it: wait for the count.
    const after = await eventually(scrape, (f) => latency(f, "_count") - latency(before, "_count") >= 4);
    const delivered = (f: Families) => value(f, "runwatch_sse_events_delivered_total", { backend: "redis" });
    const received = reader!.events.length + reader!.connectionEvents.filter((e) => e.event === "agent_liveness").length;
    expect(received).toBeGreaterThanOrEqual(4);
    expect(delivered(after) - delivered(before)).toBe(received);
    expect(latency(after, "_count") - latency(before, "_count")).toBe(4);
    expect(latencyBucket(after, "2.5") - latencyBucket(before, "2.5")).toBe(3);
    expect(latencyBucket(after, "5") - latencyBucket(before, "5")).toBe(4);
    const added = latency(after, "_sum") - latency(before, "_sum");
    expect(added).toBeGreaterThanOrEqual(3);
    expect(added).toBeLessThan(5);
    reader!.abort();
  });

  it("observes a live message's latency once however many viewers it reaches, and counts each delivery", async () => {
    const run = await newRun(1);
    const viewers = [await openStream(run.runId), await openStream(run.runId)];
    for (const { reader } of viewers) await reader!.waitForConnectionEvent("stream_open");
    const before = await scrape();
    const delivered = (f: Families) => value(f, "runwatch_sse_events_delivered_total", { backend: "redis" });
    const [a] = publishers(redisClient(), run);
    await a!.output("to both");
    for (const { reader } of viewers) await reader!.waitForEvents(1);
    const after = await eventually(scrape, (f) => delivered(f) - delivered(before) >= 2);
    expect(latency(after, "_count") - latency(before, "_count")).toBe(1);
    for (const { reader } of viewers) reader!.abort();
  });

  it("counts a replayed history as replayed events and keeps it out of the latency histogram", async () => {
    const run = await newRun(1);
    const [a] = publishers(redisClient(), run);
    for (let i = 0; i < 5; i++) await a!.output(`chunk ${i}`);
    await a!.log("thinking");
    await a!.log("still thinking", "warn");
    const before = await scrape();
    const { reader } = await openStream(run.runId);
    await reader!.waitForEvents(7);
    const after = await scrape();
    const replayed = (f: Families) => value(f, "runwatch_sse_events_replayed_total", { backend: "redis" });
    expect(replayed(after) - replayed(before)).toBe(7);
    expect(latency(after, "_count") - latency(before, "_count")).toBe(0);
    // A message published once the viewer is live is not replayed.
    await a!.output("live");
    await reader!.waitForEvents(8);
    const live = await scrape();
    expect(replayed(live)).toBe(replayed(after));
    expect(latency(live, "_count") - latency(after, "_count")).toBe(1);
    reader!.abort();
  });

  it("reports runs by status, read from Redis at scrape time", async () => {
    const run = await newRun(1);
    const before = await scrape();
    const runs = (f: Families, status: string) => value(f, "runwatch_runs", { status });
    expect(runs(before, "running")).toBeGreaterThanOrEqual(1);
    const [a] = publishers(redisClient(), run);
    await a!.status("running");
    await a!.status("completed");
    const after = await scrape();
    expect(runs(after, "completed")).toBe(runs(before, "completed") + 1);
    expect(runs(after, "running")).toBe(runs(before, "running") - 1);
    // Everything this suite created is in its own database, so the gauge is exactly the runs list.
    const total = await redisClient().zcard(keys.runsIndex());
    expect(runs(after, "completed") + runs(after, "running")).toBe(total);
  });

  it("counts a viewer cut off for not reading as a slow viewer dropped", async () => {
    const before = await scrape();
    const connection = new SseConnection(new AbortController().signal, { backend: "redis", runId: "run-0123456789ab" });
    const content = "x".repeat(1024 * 1024);
    const event: SseEvent = {
      event: "agent_output",
      data: { run_id: "run-0123456789ab", variation_id: "var-1", sequence: 1, timestamp: new Date().toISOString(), content },
    };
    const during = await scrape();
    expect(open(during, "redis")).toBe(open(before, "redis") + 1);
    // Nobody reads the body: past MAX_BUFFERED_BYTES the connection is cut.
    for (let i = 0; i * content.length <= MAX_BUFFERED_BYTES + content.length && !connection.closed; i++) connection.sendEvents([event]);
    expect(connection.closed).toBe(true);
    const after = await scrape();
    const dropped = (f: Families, backend: string) => value(f, "runwatch_sse_slow_viewers_dropped_total", { backend });
    expect(dropped(after, "redis") - dropped(before, "redis")).toBe(1);
    expect(dropped(after, "kubectl")).toBe(dropped(before, "kubectl"));
    expect(open(after, "redis")).toBe(open(before, "redis"));
  });

  it("still answers when Redis is down: runwatch_redis_up 0, no runs series, the rest as counted", async () => {
    const { closeRedis } = await import("@/lib/redis");
    await closeRedis();
    const deadPort = await closedPort();
    process.env.REDIS_URL = `redis://127.0.0.1:${deadPort}`;
    vi.resetModules(); // lib/env.ts parses the environment once per module instance
    try {
      const { GET } = await import("@/app/api/metrics/route");
      const started = Date.now();
      const families = await scrape(GET);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(value(families, "runwatch_redis_up")).toBe(0);
      expect(families.get("runwatch_runs")?.samples).toEqual([]);
      expect(open(families, "redis")).toBeGreaterThanOrEqual(0);
      expect(families.has("process_resident_memory_bytes")).toBe(true);
      // The command client it made keeps trying to reconnect, and each attempt is counted.
      const reconnects = await eventually(
        () => scrape(GET),
        (f) => value(f, "runwatch_redis_reconnects_total", { connection: "command" }) > 0,
      );
      expect(value(reconnects, "runwatch_redis_up")).toBe(0);
    } finally {
      const dead = await import("@/lib/redis");
      dead.getRedis().disconnect();
      await dead.closeRedis();
      process.env.REDIS_URL = ownUrl.toString();
    }
  });
});

/** A local port nothing listens on (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
