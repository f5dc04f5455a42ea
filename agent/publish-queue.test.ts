import Redis from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import type { AgentMessage } from "../lib/events";
import { PublishQueue, sendToRedis } from "./publish-queue";

const message = (sequence: number, type: "output" | "status" = "output"): AgentMessage =>
  type === "status"
    ? { type, content: "running", run_id: "run-0123456789ab", variation_id: "var-1", sequence, timestamp: "2026-11-23T10:00:00.000Z", metadata: {} }
    : { type, content: `chunk ${sequence}`, run_id: "run-0123456789ab", variation_id: "var-1", sequence, timestamp: "2026-11-23T10:00:00.000Z", metadata: {} };

describe("PublishQueue batches", () => {
  it("sends in order, in batches capped by count and by bytes (a request body has a limit)", async () => {
    const batches: number[][] = [];
    const queue = new PublishQueue({ send: async (m) => void batches.push(m.map((x) => x.sequence)), batchSize: 4, maxBatchBytes: 600 });
    const big = (sequence: number): AgentMessage => ({ type: "output", content: "x".repeat(250), run_id: "run-0123456789ab", variation_id: "var-1", sequence, timestamp: "2026-11-23T10:00:00.000Z", metadata: {} });
    for (const m of [message(1), message(2), big(3), big(4), big(5), message(6), message(7), message(8), message(9), message(10)]) void queue.push(m);
    expect(await queue.flush(1_000)).toBe(0);
    expect(batches.flat()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(Math.max(...batches.map((b) => b.length))).toBeLessThanOrEqual(4);
    // Two 250-character messages with their envelopes pass 600 bytes: never in one batch.
    for (const batch of batches) expect(batch.filter((s) => s >= 3 && s <= 5).length).toBeLessThanOrEqual(1);
  });
});

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
