/**
 * Runwatch through a real Redis Sentinel (a master, a replica, one sentinel): the app's
 * connections made from REDIS_SENTINELS + REDIS_SENTINEL_NAME alone (no REDIS_URL). A run
 * streams; then the sentinel fails the master over to the replica mid-run, the viewer's
 * stream ends (its subscription had a gap), and resuming with Last-Event-ID from the new
 * master gives exactly the rest of the run.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { EventSourceMessage } from "eventsource-parser";
import Redis from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keys } from "@/lib/channels";
import { closeRedis, getRedis, getSubscriberConnection } from "@/lib/redis";
import { createRedisClient, type RedisClient } from "@/lib/redis-connect";
import { resetSubscriber } from "@/lib/subscriber";
import { newRun, openStream, publishers } from "../support/helpers";
import { SENTINEL_MASTER_NAME, startRedisSentinel, type RedisSentinelSetup } from "../support/redis-sentinel";

let dir: string;
let setup: RedisSentinelSetup;
let client: RedisClient;
let restore: Record<string, string | undefined> = {};

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "runwatch-test-sentinel-"));
  setup = await startRedisSentinel(dir);
  // lib/env.ts reads the environment on first use, and nothing in this file has used it yet.
  restore = { REDIS_URL: process.env.REDIS_URL, REDIS_SENTINELS: process.env.REDIS_SENTINELS, REDIS_SENTINEL_NAME: process.env.REDIS_SENTINEL_NAME };
  delete process.env.REDIS_URL;
  process.env.REDIS_SENTINELS = setup.sentinelsEnv;
  process.env.REDIS_SENTINEL_NAME = SENTINEL_MASTER_NAME;
  // The test's own publishing client, made the way agents make theirs.
  client = createRedisClient({ mode: "sentinel", sentinels: [{ host: "127.0.0.1", port: setup.sentinelPort }], name: SENTINEL_MASTER_NAME }, { maxRetriesPerRequest: 1 });
  client.on("error", () => {}); // the failover drops it; it reconnects to the new master
}, 60_000);

afterAll(async () => {
  client?.disconnect();
  await closeRedis();
  resetSubscriber();
  await setup?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  for (const [name, value] of Object.entries(restore)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
}, 30_000);

const line = (e: EventSourceMessage) => {
  const data = JSON.parse(e.data) as { content?: string; status?: string };
  return `${e.event} ${data.content ?? data.status ?? ""}`;
};

describe("Runwatch through Redis Sentinel", () => {
  it("connects through the sentinel to its master and streams a run", async () => {
    const redis = getRedis();
    expect(redis).toBeInstanceOf(Redis);
    expect((redis as Redis).options.sentinels).toEqual([{ host: "127.0.0.1", port: setup.sentinelPort }]);
    expect((getSubscriberConnection() as Redis).options.name).toBe(SENTINEL_MASTER_NAME);
    const run = await newRun(1);
    const { reader } = await openStream(run.runId);
    const [agent] = publishers(client, run);
    await agent!.output("hello");
    await agent!.status("completed");
    await reader!.ended;
    expect(reader!.events.map(line)).toEqual(["agent_output hello", "agent_status completed", "agent_complete completed", "run_complete "]);
    // The run is on the master the sentinel named, asked directly.
    const master = new Redis(setup.masterPort, "127.0.0.1");
    try {
      expect(await master.info("replication")).toContain("role:master");
      expect(await master.exists(keys.runMeta(run.runId))).toBe(1);
    } finally {
      master.disconnect();
    }
  });

  it("survives a failover mid-run: the stream ends, and resuming from the new master gives exactly the rest", async () => {
    const run = await newRun(1);
    const [agent] = publishers(client, run);
    const first = await openStream(run.runId);
    await agent!.output("before");
    const [before] = await first.reader!.waitForEvents(1);
    // Let the replica have it before it becomes the master (replication is asynchronous).
    await (client as Redis).wait(1, 2_000);

    const sentinel = new Redis(setup.sentinelPort, "127.0.0.1");
    try {
      await sentinel.call("SENTINEL", "FAILOVER", SENTINEL_MASTER_NAME);
    } finally {
      sentinel.disconnect();
    }
    await expect.poll(() => setup.currentMasterPort(), { timeout: 20_000 }).toBe(setup.replicaPort);
    // The sentinel drops the old master's clients; the subscriber reconnects to the new master,
    // and the viewer is told its stream had a gap.
    await first.reader!.ended;

    await agent!.output("after"); // the outbox retries until the client has found the new master
    await agent!.status("completed");
    const resumed = await openStream(run.runId, "redis", before!.id);
    await resumed.reader!.ended;
    expect(resumed.reader!.events.map(line)).toEqual(["agent_output after", "agent_status completed", "agent_complete completed", "run_complete "]);
  }, 60_000);
});
