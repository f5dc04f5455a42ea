/**
 * What users get when Redis goes away: clear 503 answers, not hangs or crashes. Uses its own
 * redis-server so stopping it does not disturb the other suites.
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
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "runwatch-down-"));
  redis = await startRedis({ dir, persistent: false });
  restoreUrl = process.env.REDIS_URL;
  process.env.REDIS_URL = redis.url;
  vi.resetModules();
});

afterAll(async () => {
  const { closeRedis } = await import("@/lib/redis");
  await closeRedis();
  await redis.stop();
  process.env.REDIS_URL = restoreUrl;
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("when Redis is down", () => {
  it("does not take a client closed on purpose for Redis being down: the next one's health is 200", async () => {
    const { GET: health } = await import("@/app/api/health/route");
    const { closeRedis } = await import("@/lib/redis");
    expect((await health()).status).toBe(200);
    await closeRedis();
    await new Promise((r) => setTimeout(r, 100)); // the old connection's "close" has fired
    expect((await health()).status).toBe(200);
  });

  it("tells each subscriber at once when the connection drops, delivers it nothing after, and leaves nothing subscribed", async () => {
    const { getSubscriber } = await import("@/lib/subscriber");
    const { getSubscriberConnection } = await import("@/lib/redis");
    const subscriber = getSubscriber();
    // Messages and gaps in the order the subscriber saw them: a message after the gap would have
    // moved a viewer's cursor past what was lost while Redis was away.
    const seen: string[] = [];
    await subscriber.subscribe("run:run-aaaaaaaaaaaa:*", (_channel, message) => seen.push(message), { onGap: () => seen.push("gap") });
    const releaseOther = await subscriber.subscribe("run:run-bbbbbbbbbbbb:*", () => {});
    const { default: Redis } = await import("ioredis");
    const before = new Redis(redis.url);
    await before.publish("run:run-aaaaaaaaaaaa:status", "before");
    await subscriber.drain();
    before.disconnect();
    expect(seen).toEqual(["before"]);

    await redis.stop();
    await expect.poll(() => seen, { timeout: 5_000 }).toEqual(["before", "gap"]);
    await releaseOther(); // its subscription went with the connection: nothing to send
    expect(subscriber.activePatterns()).toEqual([]);
    redis = await startRedis({ dir, persistent: false, port: redis.port });

    const probe = new Redis(redis.url);
    try {
      await expect.poll(() => getSubscriberConnection().status, { timeout: 10_000 }).toBe("ready");
      await subscriber.drain();
      await probe.publish("run:run-aaaaaaaaaaaa:status", "after, to nobody");
      expect(Number(await probe.call("PUBSUB", "NUMPAT"))).toBe(0);
      // Whoever still wants the run subscribes again, and hears what comes next.
      const again: string[] = [];
      await subscriber.subscribe("run:run-aaaaaaaaaaaa:*", (_channel, message) => again.push(message));
      expect(Number(await probe.call("PUBSUB", "NUMPAT"))).toBe(1);
      await probe.publish("run:run-aaaaaaaaaaaa:status", "back");
      await subscriber.drain();
      expect(again).toEqual(["back"]);
      expect(seen).toEqual(["before", "gap"]);
    } finally {
      await probe.quit();
    }
  });

  it("health goes from 200 to 503 with a reason, and API routes answer 503 with a clear message", async () => {
    const { GET: health } = await import("@/app/api/health/route");
    const { GET: listRuns, POST: createRun } = await import("@/app/api/v1/runs/route");
    const { GET: stream } = await import("@/app/api/v1/runs/[runId]/stream/redis/route");
    expect((await health()).status).toBe(200);

    await redis.stop();

    const down = await health();
    expect(down.status).toBe(503);
    const body = await down.json();
    expect(body).toMatchObject({ ok: false, redis: "down" });
    expect(body.reason).toMatch(/Redis is unreachable/);

    const list = await listRuns(new Request("http://localhost/api/v1/runs"));
    expect(list.status).toBe(503);
    expect((await list.json()).error).toMatchObject({ code: "redis_unavailable", message: expect.stringMatching(/Redis is unavailable/) });

    const created = await createRun(
      new Request("http://localhost/api/v1/runs", { method: "POST", body: JSON.stringify({ prompt: "hi" }) }),
    );
    expect(created.status).toBe(503);

    const streamed = await stream(new Request("http://localhost/x"), { params: Promise.resolve({ runId: "run-000000000000" }) });
    expect(streamed.status).toBe(503);
  });
});
