/**
 * Redis restarted mid-run, with AOF on: real agent processes keep their messages in their
 * outbox while Redis is away and flush them when it is back; a viewer that resumes from its
 * last event id ends with every message exactly once. Its own redis-server, so stopping it
 * does not disturb the other suites.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRedis } from "../../scripts/lib/redis.mjs";
import { logPaths } from "@/lib/agent-logs";
import { agentsIdle, launchRun, runnerCommand } from "@/lib/orchestrator";
import { DEMO } from "@/lib/presets";
import { closeRedis } from "@/lib/redis";
import { createRun } from "@/lib/runs";
import { watchToTheEnd } from "../support/helpers";

let redis: Awaited<ReturnType<typeof startRedis>>;
let dir: string;
let restoreUrl: string | undefined;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "runwatch-aof-"));
  redis = await startRedis({ dir, persistent: true });
  restoreUrl = process.env.REDIS_URL;
  process.env.REDIS_URL = redis.url; // read on first use: nothing in this file used it yet
});

afterAll(async () => {
  await closeRedis();
  await redis.stop();
  process.env.REDIS_URL = restoreUrl;
  fs.rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("Redis restarted mid-run (AOF)", () => {
  it("agents buffer and flush, and the viewer ends with every message once", async () => {
    process.env.DEMO_AGENT_SPEED = "6";
    const run = await createRun({ prompt: "Survive a Redis restart", agents: ["demo", "demo"] });
    const exits = launchRun(run, [DEMO, DEMO], runnerCommand());
    const watching = watchToTheEnd(run.runId, { timeoutMs: 60_000 });

    await sleep(1_000);
    await redis.stop(); // SIGTERM: AOF flushed
    await sleep(2_000); // the agents keep working, into their outboxes
    redis = await startRedis({ dir, persistent: true, port: redis.port });

    const { events, sessions } = await watching;
    await Promise.all(exits);
    await agentsIdle();
    expect(sessions.length).toBeGreaterThan(1); // it did have to resume

    for (const variationId of run.variationIds) {
      // What the agent printed is what it meant to publish: each message once, in order.
      const printed = fs.readFileSync(logPaths(run.runId, variationId).stdout, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as { sequence: number; type: string });
      expect(printed.at(-1)).toMatchObject({ type: "status" });
      const received = events
        .filter((e) => e.event !== "run_complete" && e.event !== "agent_complete" && e.event !== "agent_error")
        .map((e) => JSON.parse(e.data) as { variation_id: string; sequence: number })
        .filter((d) => d.variation_id === variationId)
        .map((d) => d.sequence);
      expect(received).toEqual(printed.map((m) => m.sequence));
      // and it really had to keep them while Redis was away
      const stderr = fs.readFileSync(logPaths(run.runId, variationId).stderr, "utf8");
      expect(stderr).toMatch(/cannot publish \(.*\); keeping messages and retrying/);
      expect(stderr).toMatch(/publishing works again; sending the \d+ buffered message/);
    }
    expect(JSON.parse(events.at(-1)!.data).statuses).toEqual({ "var-1": "completed", "var-2": "completed" });
  });
});
