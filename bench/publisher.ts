/**
 * Runs and messages for the scale scenarios. A run is its meta hash, written with the keys the
 * server uses (like e2e/server-kill-replay.spec.ts), and messages go through the real publish
 * script (lib/publish.ts), so Runwatch and the baseline receive byte-identical payloads. Each
 * message's content is its publish time (epoch ms with fractions) for the viewers to time.
 */
import { randomBytes } from "node:crypto";
import type Redis from "ioredis";
import { keys } from "../lib/channels";
import { publishMessage } from "../lib/publish";

export async function createRuns(redis: Redis, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    // The server's id format: run- and 12 lowercase letters or digits.
    const runId = `run-${randomBytes(6).toString("hex")}`;
    await redis.hset(keys.runMeta(runId), { prompt: "bench", agent: "demo", variations: "var-1", created_at: new Date().toISOString(), ttl_seconds: 3600, stream_maxlen: 100_000 });
    await redis.zadd(keys.runsIndex(), Date.now(), runId);
    ids.push(runId);
  }
  return ids;
}

const sequences = new Map<string, number>();

/**
 * Publishes `rate` messages a second in total, round-robin over the runs, for `seconds`; paced
 * by elapsed time (each 1 ms tick sends what is due), pipelined rather than awaited one by one.
 * Resolves with the number published per run.
 */
export async function publishAtRate(redis: Redis, runIds: string[], rate: number, seconds: number): Promise<Map<string, number>> {
  const published = new Map(runIds.map((id) => [id, 0]));
  const total = Math.round(rate * seconds);
  const started = performance.now();
  const inFlight: Promise<unknown>[] = [];
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1_000) * rate) + 1);
    for (; sent < due; sent++) {
      const runId = runIds[sent % runIds.length]!;
      const sequence = (sequences.get(runId) ?? 0) + 1;
      sequences.set(runId, sequence);
      published.set(runId, published.get(runId)! + 1);
      const content = String(performance.timeOrigin + performance.now());
      inFlight.push(publishMessage(redis, { type: "output", content, run_id: runId, variation_id: "var-1", sequence, timestamp: new Date().toISOString(), metadata: {} }));
    }
    if (inFlight.length > 5_000) await Promise.all(inFlight.splice(0));
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(inFlight);
  return published;
}
