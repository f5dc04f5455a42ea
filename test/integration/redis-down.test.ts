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
  it("re-subscribes the runs still watched after Redis comes back, and only those", async () => {
    const { getSubscriber } = await import("@/lib/subscriber");
    const subscriber = getSubscriber();
    const received: string[] = [];
    let gaps = 0;
    await subscriber.subscribe("run:run-aaaaaaaaaaaa:*", (_channel, message) => received.push(message), { onGap: () => gaps++ });
    const releaseOther = await subscriber.subscribe("run:run-bbbbbbbbbbbb:*", () => {});

    await redis.stop();
    await releaseOther(); // its PUNSUBSCRIBE cannot reach Redis now
    redis = await startRedis({ dir, persistent: false, port: redis.port });

    const { default: Redis } = await import("ioredis");
    const probe = new Redis(redis.url);
    try {
      const deadline = Date.now() + 10_000;
      while (Number(await probe.call("PUBSUB", "NUMPAT")) !== 1) {
        if (Date.now() > deadline) throw new Error("the watched run was not re-subscribed");
        await new Promise((r) => setTimeout(r, 100));
      }
      await new Promise((r) => setTimeout(r, 300)); // a stray re-subscribe would land by now
      expect(Number(await probe.call("PUBSUB", "NUMPAT"))).toBe(1);
      await probe.publish("run:run-aaaaaaaaaaaa:status", "back");
      await subscriber.drain();
      expect(received).toEqual(["back"]);
      // the viewer is told messages may have been lost while Redis was away
      expect(gaps).toBe(1);
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
