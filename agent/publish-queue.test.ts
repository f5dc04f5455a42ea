import Redis from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import type { AgentMessage } from "../lib/events";
import { PublishQueue, sendToRedis } from "./publish-queue";

const message = (sequence: number, type: "output" | "status" = "output"): AgentMessage =>
  type === "status"
    ? { type, content: "running", run_id: "run-0123456789ab", variation_id: "var-1", sequence, timestamp: "2026-11-23T10:00:00.000Z", metadata: {} }
    : { type, content: `chunk ${sequence}`, run_id: "run-0123456789ab", variation_id: "var-1", sequence, timestamp: "2026-11-23T10:00:00.000Z", metadata: {} };

describe("PublishQueue while Redis is unreachable", () => {
  let redis: Redis;
  let queue: PublishQueue;
  afterEach(() => {
    queue.close();
    redis.disconnect();
  });

  it("keeps a bounded outbox, drops the oldest non-status messages when full, and says so", async () => {
    // Nothing listens on port 1: every publish fails at once, like Redis being down.
    redis = new Redis("redis://127.0.0.1:1", { enableOfflineQueue: false, maxRetriesPerRequest: 0, lazyConnect: true, retryStrategy: () => null });
    redis.on("error", () => undefined);
    const log: string[] = [];
    queue = new PublishQueue({ send: sendToRedis(redis), maxMessages: 10, log: (line) => log.push(line), baseDelayMs: 5, maxDelayMs: 10 });
    const settled: number[] = [];
    for (let i = 1; i <= 15; i++) void queue.push(message(i, i % 5 === 0 ? "status" : "output")).then(() => settled.push(i));
    await new Promise((r) => setTimeout(r, 50));

    expect(queue.size).toBe(10);
    expect(log.some((l) => /cannot publish .*keeping messages and retrying/.test(l))).toBe(true);
    expect(log.some((l) => /outbox full \(10 messages\).*dropped 1 message/.test(l))).toBe(true);
    // The head (in flight) and every status survive; the oldest other messages went first.
    expect(settled.sort((a, b) => a - b)).toEqual([2, 3, 4, 6, 7]);
    expect(await queue.flush(30)).toBe(10); // nothing reached Redis
  });
});
