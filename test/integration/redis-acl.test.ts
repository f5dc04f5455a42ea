/**
 * Least privilege on a real redis-server loaded with the shipped ACL file (Redis takes no
 * comments there: README, "Redis users", explains each line)
 * (deploy/k8s/redis-users.acl, its CHANGE-ME passwords replaced by fresh ones): the app as
 * `runwatch-app`, real agent processes (dist/agent/cli.mjs) as `runwatch-agent`. A run streams,
 * pause / resume reach an agent, heartbeats show, and the run completes; the agent user cannot
 * read a run or subscribe, the app user cannot run dangerous commands. Then what an agent may
 * write but Runwatch must not publish: garbage in an inbox ends in the dead-letter stream, is
 * counted, shows as a warning in the variation's logs, and the stream goes on.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { EventSourceMessage } from "eventsource-parser";
import Redis from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { channels, keys } from "@/lib/channels";
import { sendControl } from "@/lib/control";
import { sendToInbox } from "@/lib/inbox";
import { startIngest, stopIngest } from "@/lib/ingest";
import { metrics } from "@/lib/metrics";
import { agentsIdle, startRun } from "@/lib/orchestrator";
import { closeRedis } from "@/lib/redis";
import { resetSubscriber } from "@/lib/subscriber";
import { startRedis } from "../../scripts/lib/redis.mjs";
import { eventually, newRun, openStream } from "../support/helpers";

const ACL_FILE = path.resolve(__dirname, "..", "..", "deploy", "k8s", "redis-users.acl");
const ENV = ["REDIS_URL", "RUNWATCH_AGENT_REDIS_URL", "DEMO_AGENT_SPEED", "MAX_MESSAGE_BYTES"] as const;

let dir: string;
let redis: Awaited<ReturnType<typeof startRedis>>;
let app: Redis;
let agent: Redis;
let agentUrl: string;
const restore: Record<string, string | undefined> = {};

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "runwatch-test-acl-"));
  const appPassword = randomBytes(16).toString("hex");
  const agentPassword = randomBytes(16).toString("hex");
  const acl = fs.readFileSync(ACL_FILE, "utf8").replace("CHANGE-ME-app-password", appPassword).replace("CHANGE-ME-agent-password", agentPassword);
  expect(acl).not.toContain("CHANGE-ME");
  fs.writeFileSync(path.join(dir, "users.acl"), acl);
  redis = await startRedis({ dir, persistent: false, extraArgs: ["--aclfile", path.join(dir, "users.acl")] });
  const appUrl = `redis://runwatch-app:${appPassword}@127.0.0.1:${redis.port}`;
  agentUrl = `redis://runwatch-agent:${agentPassword}@127.0.0.1:${redis.port}`;
  // lib/env.ts reads the environment on first use, and nothing in this file has used it yet.
  for (const name of ENV) restore[name] = process.env[name];
  process.env.REDIS_URL = appUrl;
  process.env.RUNWATCH_AGENT_REDIS_URL = agentUrl;
  process.env.DEMO_AGENT_SPEED = "4"; // slow enough to pause a real agent mid-answer
  process.env.MAX_MESSAGE_BYTES = "4096";
  app = new Redis(appUrl, { maxRetriesPerRequest: 1 });
  // As agents connect: no ready check (INFO is not theirs to run).
  agent = new Redis(agentUrl, { maxRetriesPerRequest: 1, enableReadyCheck: false });
}, 30_000);

afterAll(async () => {
  await agentsIdle(30_000).catch(() => {});
  await stopIngest();
  app?.disconnect();
  agent?.disconnect();
  await closeRedis();
  resetSubscriber();
  await redis?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  for (const name of ENV) {
    if (restore[name] === undefined) delete process.env[name];
    else process.env[name] = restore[name];
  }
}, 40_000);

type Data = { variation_id?: string; sequence?: number; status?: string; level?: string; content?: string; metadata?: { control_id?: string } };
const data = (e: EventSourceMessage) => JSON.parse(e.data) as Data;
const ackOf = (controlId: string, status: string) => (e: EventSourceMessage) => e.event === "agent_status" && data(e).status === status && data(e).metadata?.control_id === controlId;

describe("the shipped ACL users", () => {
  it("stream a run of real agents on the agent user: output, pause / resume, heartbeats, completion", async () => {
    const { runId } = await startRun({ prompt: "Least privilege", agents: ["demo", "demo"] });
    const { reader } = await openStream(runId);
    await reader!.waitForEvents(1, (e) => e.event === "agent_output" && data(e).variation_id === "var-1", 15_000);
    // Heartbeats come through the inbox: the app renews the key the liveness check reads.
    const beat = await eventually(() => app.get(keys.agentHeartbeat(runId, "var-1")), (value) => value !== null);
    expect(Date.now() - Date.parse(beat!)).toBeLessThan(15_000);
    const pause = await sendControl(runId, { action: "pause", variation_id: "var-1" });
    await reader!.waitForEvents(1, ackOf(pause.control_id, "paused"), 10_000);
    const resume = await sendControl(runId, { action: "resume", variation_id: "var-1" });
    await reader!.waitForEvents(1, ackOf(resume.control_id, "resumed"), 10_000);
    const [complete] = await reader!.waitForEvents(1, (e) => e.event === "run_complete", 40_000);
    expect(JSON.parse(complete!.data)).toMatchObject({ statuses: { "var-1": "completed", "var-2": "completed" } });
    // Each variation's sequence has no gap and no repeat, whatever went through the inbox.
    for (const variation of ["var-1", "var-2"]) {
      const sequences = [...new Set(reader!.events.filter((e) => e.event !== "run_complete" && data(e).variation_id === variation).map((e) => data(e).sequence!))];
      expect(sequences).toEqual(sequences.map((_, i) => i + 1));
    }
    reader!.abort();
    // The agents said goodbye through the inbox too.
    await eventually(() => app.exists(keys.agentHeartbeat(runId, "var-1"), keys.agentHeartbeat(runId, "var-2")), (n) => n === 0);
  }, 60_000);

  it("keep the agent user to its inbox and control stream", async () => {
    const run = await newRun(1);
    const id = run.runId;
    const refused = [
      () => agent.hgetall(keys.runMeta(id)),
      () => agent.xrange(keys.runEvents(id), "-", "+"),
      () => agent.xrange(keys.runInbox(id), "-", "+"),
      () => agent.xadd(keys.runEvents(id), "*", "m", "{}"),
      () => agent.get(keys.agentHeartbeat(id, "var-1")),
      () => agent.set(keys.agentHeartbeat(id, "var-1"), "alive"),
      () => agent.zrange(keys.runsIndex(), 0, -1),
      () => agent.publish(channels.status(id), "{}"),
      () => agent.eval("return 1", 0),
      () => agent.info(),
    ];
    for (const attempt of refused) await expect(attempt()).rejects.toThrow(/NOPERM/);
    for (const subscribe of [(c: Redis) => c.subscribe(channels.control(id)), (c: Redis) => c.psubscribe(channels.runPattern(id))]) {
      const connection = new Redis(agentUrl, { maxRetriesPerRequest: 1, enableReadyCheck: false });
      await expect(subscribe(connection)).rejects.toThrow(/NOPERM/);
      connection.disconnect();
    }
    // What it may do: append to an inbox, wake the app, read control messages.
    await sendToInbox(agent, id)([]);
    expect(await agent.publish(channels.inboxWake(id), "1")).toBeGreaterThanOrEqual(0);
    await sendControl(id, { action: "pause" });
    const read = await agent.xread("STREAMS", keys.runControl(id), "0");
    expect(read?.[0]?.[1]).toHaveLength(1);
  });

  it("keep the app user from dangerous commands", async () => {
    const attempts = [() => app.flushall(), () => app.config("GET", "*"), () => app.keys("*"), () => app.call("ACL", "SETUSER", "intruder", "on"), () => app.get("someone-elses-key")];
    for (const attempt of attempts) await expect(attempt()).rejects.toThrow(/NOPERM/);
  });

  it("let the app user keep rate-limit counters in Redis, where every instance shares them (found in review)", async () => {
    const { createLimiter } = await import("@/lib/rate-limit");
    const limiter = createLimiter("control", app, { RATE_LIMIT_CONTROL: 2, RATE_LIMIT_WINDOW_SECONDS: 60 } as never)!;
    await limiter.consume("ip:acl-test");
    // Counted in Redis, not in the in-memory fallback a NOPERM would silently switch to.
    expect(Number(await app.get(`${keys.rateLimitPrefix("control")}:ip:acl-test`))).toBe(1);
  });
});

describe("an inbox with garbage in it", () => {
  const deadLetters = async (reason: string) => (await metrics().deadLetters.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;

  it("dead-letters, counts and reports each bad entry, and streams the next good message", async () => {
    const run = await newRun(1);
    const id = run.runId;
    const { reader } = await openStream(id);
    const before = Object.fromEntries(await Promise.all(["not_json", "invalid", "too_large", "wrong_run", "malformed_entry"].map(async (r) => [r, await deadLetters(r)] as const)));
    const message = (sequence: number, extra: object = {}) => JSON.stringify({ type: "output", content: "ok", run_id: id, variation_id: "var-1", sequence, timestamp: new Date().toISOString(), ...extra });
    const append = (...fields: string[]) => agent.call("XADD", keys.runInbox(id), "NOMKSTREAM", "*", ...fields);
    await append("v", "var-1", "s", "1", "m", "{not json");
    await append("v", "var-1", "s", "2", "m", message(2, { type: "shout" }));
    await append("v", "var-1", "s", "3", "m", message(3, { content: "x".repeat(5000) }));
    await append("v", "var-1", "s", "4", "m", message(4, { run_id: "run-000000000000" }));
    await append("nothing", "useful");
    await append("m", "no envelope and not JSON"); // no slot: dead-lettered, not shown
    await sendToInbox(agent, id)([JSON.parse(message(5)) as never]);

    const events = await reader!.waitForEvents(5, () => true, 10_000);
    expect(events.map((e) => [e.event, data(e).sequence, data(e).level ?? null])).toEqual([
      ["agent_log", 1, "warn"],
      ["agent_log", 2, "warn"],
      ["agent_log", 3, "warn"],
      ["agent_log", 4, "warn"],
      ["agent_output", 5, null],
    ]);
    expect(data(events[2]!).content).toMatch(/too_large/);
    reader!.abort();

    const dead = await app.xrange(keys.runDeadLetters(id), "-", "+");
    const reasons = dead.map(([, fields]) => fields[fields.indexOf("reason") + 1]);
    expect(reasons).toEqual(["not_json", "invalid", "too_large", "wrong_run", "malformed_entry", "not_json"]);
    for (const [reason, count] of Object.entries({ not_json: 2, invalid: 1, too_large: 1, wrong_run: 1, malformed_entry: 1 })) {
      expect(await deadLetters(reason), reason).toBe(before[reason]! + count);
    }
    expect(await app.ttl(keys.runDeadLetters(id))).toBeGreaterThan(0);
    // Published entries are trimmed away: the inbox stays small.
    await eventually(() => app.xlen(keys.runInbox(id)), (n) => n === 0);
  });

  it("ingests what was appended while no instance listened (the sweep), once", async () => {
    const run = await newRun(1);
    await stopIngest();
    const message = { type: "output" as const, content: "sent while the app was down", metadata: {}, run_id: run.runId, variation_id: "var-1", sequence: 1, timestamp: new Date().toISOString() };
    await sendToInbox(agent, run.runId)([message, message]); // and once more, as a retry would
    startIngest();
    await eventually(() => app.xlen(keys.runEvents(run.runId)), (n) => n === 1, 10_000);
    const { reader } = await openStream(run.runId);
    const [output] = await reader!.waitForEvents(1, (e) => e.event === "agent_output");
    expect(data(output!).content).toBe("sent while the app was down");
    reader!.abort();
  });

  it("refuses a run that does not exist (the agent's fatal error)", async () => {
    await expect(sendToInbox(agent, "run-zzzzzzzzzzzz")([])).resolves.toBeUndefined();
    const message = { type: "output" as const, content: "x", metadata: {}, run_id: "run-zzzzzzzzzzzz", variation_id: "var-1", sequence: 1, timestamp: new Date().toISOString() };
    await expect(sendToInbox(agent, "run-zzzzzzzzzzzz")([message])).rejects.toThrow(/does not exist/);
  });
});
