/**
 * The Redis circuit breaker against a real redis-server that is stopped, and one that is paused
 * (SIGSTOP: the socket stays open and nothing answers, like a network stall). Either way,
 * requests stop waiting on Redis once the breaker is open, health says why, and everything
 * works again when Redis is back. Its own redis-server, so the other suites are not disturbed.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startRedis } from "../../scripts/lib/redis.mjs";

let redis: Awaited<ReturnType<typeof startRedis>>;
let dir: string;
let restoreUrl: string | undefined;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "runwatch-breaker-"));
  redis = await startRedis({ dir, persistent: false });
  restoreUrl = process.env.REDIS_URL;
  process.env.REDIS_URL = redis.url;
  vi.resetModules();
});

afterAll(async () => {
  redis.child.kill("SIGCONT");
  const { closeRedis } = await import("@/lib/redis");
  await closeRedis();
  await redis.stop();
  process.env.REDIS_URL = restoreUrl;
  fs.rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const startedAt = Date.now();
  const value = await fn();
  return { value, ms: Date.now() - startedAt };
}

async function healthUntil(status: number, timeoutMs: number): Promise<Record<string, unknown>> {
  const { GET } = await import("@/app/api/health/route");
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await GET();
    if (response.status === status) return (await response.json()) as Record<string, unknown>;
    if (Date.now() > deadline) throw new Error(`health did not answer ${status} within ${timeoutMs} ms: ${response.status} ${await response.text()}`);
    await sleep(100);
  }
}

async function circuitMetric(): Promise<string> {
  const { metrics } = await import("@/lib/metrics");
  const text = await metrics().registry.getSingleMetricAsString("runwatch_redis_circuit_state");
  return /state="(\w+)"} 1/.exec(text)?.[1] ?? "none";
}

describe("Redis circuit breaker", () => {
  it("opens when Redis stops: requests get 503 with Retry-After at once; closes when it is back", async () => {
    const { GET: listRuns } = await import("@/app/api/v1/runs/route");
    await healthUntil(200, 5_000);
    expect(await circuitMetric()).toBe("closed");

    await redis.stop();
    const down = await healthUntil(503, 5_000);
    expect(down).toMatchObject({ ok: false, redis: "down" });
    // Open within the reconnect grace (1 s), or sooner once three requests have failed.
    await expect.poll(() => circuitMetric(), { timeout: 3_000 }).toBe("open");
    expect(await healthUntil(503, 1_000)).toMatchObject({ ok: false, redis: "down", circuit: "open" });

    const refused = await timed(() => listRuns(new Request("http://localhost/api/v1/runs")));
    expect(refused.value.status).toBe(503);
    expect(refused.value.headers.get("retry-after")).toMatch(/^\d+$/);
    expect((await refused.value.json()).error.code).toBe("redis_unavailable");
    expect(refused.ms).toBeLessThan(100);

    redis = await startRedis({ dir, persistent: false, port: redis.port });
    const up = await healthUntil(200, 10_000);
    expect(up).toEqual({ ok: true, redis: "up", circuit: "closed" });
    expect((await listRuns(new Request("http://localhost/api/v1/runs"))).status).toBe(200);
    expect(await circuitMetric()).toBe("closed");
  });

  it("opens on command timeouts while Redis is paused (SIGSTOP), so answers stop waiting; recovers after SIGCONT", async () => {
    const { GET: health } = await import("@/app/api/health/route");
    const { GET: listRuns } = await import("@/app/api/v1/runs/route");
    const { redisBreaker } = await import("@/lib/redis");
    await healthUntil(200, 5_000);

    redis.child.kill("SIGSTOP");
    try {
      // Requests in flight when the stall starts time out (5 s commandTimeout) and open it.
      const stalled = await timed(() => Promise.all([listRuns(new Request("http://localhost/api/v1/runs")), listRuns(new Request("http://localhost/api/v1/runs")), listRuns(new Request("http://localhost/api/v1/runs"))]));
      expect(stalled.value.map((r) => r.status)).toEqual([503, 503, 503]);
      expect(redisBreaker().state).toBe("open");

      const quick = await timed(() => health());
      expect(quick.value.status).toBe(503);
      expect(quick.ms).toBeLessThan(2_500); // at worst one probe's timeout
      const refused = await timed(() => listRuns(new Request("http://localhost/api/v1/runs")));
      expect(refused.value.status).toBe(503);
      expect(refused.ms).toBeLessThan(100);
    } finally {
      redis.child.kill("SIGCONT");
    }
    await healthUntil(200, 10_000);
    expect((await listRuns(new Request("http://localhost/api/v1/runs"))).status).toBe(200);
  });
});
