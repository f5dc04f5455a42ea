/**
 * Durable runs against a real redis-server: every message in the run's stream, resume after
 * any event id with no gap and no duplicate, late join, trimmed cursors, expiry.
 */
import type { EventSourceMessage } from "eventsource-parser";
import { describe, expect, it } from "vitest";
import { keys, runKeys } from "@/lib/channels";
import { sendControl } from "@/lib/control";
import type { AgentMessage } from "@/lib/events";
import { publishFailure, publishMessage, UnknownRunError } from "@/lib/publish";
import { listRuns } from "@/lib/runs";
import { eventually, newRun, openStream, publishers, setupTestRedis } from "../support/helpers";

const redisClient = setupTestRedis();

/** Run events that come from an agent message, keyed the way a viewer would see them once. */
const agentEvents = (events: EventSourceMessage[]) => events.filter((e) => e.event !== "run_complete");
const key = (e: EventSourceMessage) => `${e.id} ${e.event} ${e.data}`;

/** The expected events: the whole run read once, from the start, after it ended. */
async function wholeRun(runId: string): Promise<EventSourceMessage[]> {
  const { reader } = await openStream(runId);
  await reader!.ended;
  return reader!.events;
}

describe("durable runs", () => {
  it("resumes after any event, 200 times at random moments (also mid-replay), with nothing lost or repeated", async () => {
    const run = await newRun(3);
    const agents = publishers(redisClient(), run);
    const TOTAL = 10_000;
    const publishing = (async () => {
      for (let i = 0; i < TOTAL - 3; i++) {
        const agent = agents[i % 3]!;
        if (i % 7 === 0) await agent.log(`step ${i}`);
        else await agent.output(`token ${i} `);
        if (i % 250 === 0) await new Promise((r) => setTimeout(r, 20)); // live and replay interleave
      }
      for (const agent of agents) await agent.status("completed");
    })();

    const received: EventSourceMessage[] = [];
    let lastEventId: string | undefined;
    let reconnects = 0;
    let random = 42;
    const nextRandom = () => ((random = (random * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (;;) {
      const { reader } = await openStream(run.runId, "redis", lastEventId);
      const cutAfter = reconnects < 200 ? 1 + Math.floor(nextRandom() * 90) : Infinity;
      let taken = 0;
      const done = await new Promise<boolean>((resolve) => {
        const poll = setInterval(() => {
          while (taken < reader!.events.length && taken < cutAfter) {
            const event = reader!.events[taken++]!;
            received.push(event);
            if (event.id) lastEventId = event.id;
            if (event.event === "run_complete") return finish(true);
          }
          if (taken >= cutAfter) finish(false);
        }, 1);
        const finish = (value: boolean) => {
          clearInterval(poll);
          resolve(value);
        };
      });
      reader!.abort();
      if (done) break;
      reconnects += 1;
    }
    await publishing;
    expect(reconnects).toBe(200);
    const expected = await wholeRun(run.runId);
    expect(agentEvents(expected)).toHaveLength(TOTAL + 3); // + agent_complete per variation
    expect(agentEvents(received).map(key)).toEqual(agentEvents(expected).map(key));
  });

  it("gives a viewer who joins after the end the whole run, and every event carries its stream id", async () => {
    const run = await newRun(2);
    const [a, b] = publishers(redisClient(), run);
    await a!.output("# A");
    await b!.output("# B");
    await a!.status("completed");
    await b!.status("failed", { error: "boom" });
    const events = await wholeRun(run.runId);
    expect(events.map((e) => e.event)).toEqual(["agent_output", "agent_output", "agent_status", "agent_complete", "agent_status", "agent_error", "run_complete"]);
    const ids = await redisClient().xrange(keys.runEvents(run.runId), "-", "+");
    expect(events.slice(0, 2).map((e) => e.id)).toEqual(ids.slice(0, 2).map(([id]) => id));
    expect(events.at(-1)?.id).toBeUndefined();
  });

  it("resumes exactly after Last-Event-ID, counting statuses from before it", async () => {
    const run = await newRun(2);
    const [a, b] = publishers(redisClient(), run);
    await a!.output("one");
    await a!.status("completed"); // before the cursor: the resumed stream still needs it to complete
    await b!.output("two");
    const [, , , cursorEvent] = await wholeRunSoFar(run.runId, 4);
    await b!.output("three");
    await b!.status("completed");
    const { reader } = await openStream(run.runId, "redis", cursorEvent!.id);
    await reader!.ended;
    expect(reader!.events.map((e) => `${e.event} ${JSON.parse(e.data).content ?? ""}`)).toEqual([
      "agent_output three",
      "agent_status ",
      "agent_complete ",
      "run_complete ",
    ]);
  });

  it("replays a history larger than the slow-viewer limit (8 MiB), paced by the viewer", async () => {
    const run = await newRun(1);
    const chunk = "x".repeat(600);
    const publishes: Promise<string | null>[] = [];
    for (let sequence = 1; sequence <= 20_000; sequence++) {
      // Sent without waiting: ioredis writes them in order, and Redis runs them in that order.
      publishes.push(publishMessage(redisClient(), { type: "output", content: chunk, run_id: run.runId, variation_id: "var-1", sequence, timestamp: new Date().toISOString(), metadata: {} }));
    }
    await Promise.all(publishes);
    await publishMessage(redisClient(), { type: "status", content: "completed", run_id: run.runId, variation_id: "var-1", sequence: 20_001, timestamp: new Date().toISOString(), metadata: {} });
    const { reader } = await openStream(run.runId);
    await reader!.ended;
    expect(reader!.events.filter((e) => e.event === "agent_output")).toHaveLength(20_000); // ~13 MB
    expect(reader!.events.at(-1)?.event).toBe("run_complete");
  });

  it("answers a trimmed cursor with reset, then the whole retained history", async () => {
    const run = await newRun(1);
    await redisClient().hset(keys.runMeta(run.runId), "stream_maxlen", 10);
    const [agent] = publishers(redisClient(), run);
    await agent!.output("first");
    const [first] = await redisClient().xrange(keys.runEvents(run.runId), "-", "+", "COUNT", 1);
    for (let i = 0; i < 400; i++) await agent!.output(`chunk ${i} `);
    await agent!.status("completed");
    const retained = await redisClient().xlen(keys.runEvents(run.runId));
    expect(retained).toBeLessThan(401); // MAXLEN ~ trims whole nodes

    const { reader } = await openStream(run.runId, "redis", first![0]);
    await reader!.ended;
    expect(reader!.events[0]).toMatchObject({ event: "reset" });
    expect(JSON.parse(reader!.events[0]!.data).reason).toMatch(/trimmed/);
    // everything retained, in order, then the end
    expect(reader!.events.filter((e) => e.event === "agent_output")).toHaveLength(retained - 1);
    expect(reader!.events.at(-1)?.event).toBe("run_complete");

    // A cursor that is still retained gets no reset.
    const [, [keptId]] = (await redisClient().xrange(keys.runEvents(run.runId), "-", "+", "COUNT", 2)) as [unknown, [string]];
    const resumed = (await openStream(run.runId, "redis", keptId)).reader!;
    await resumed.ended;
    expect(resumed.events.some((e) => e.event === "reset")).toBe(false);
  });

  it("refuses a malformed Last-Event-ID with 400", async () => {
    const run = await newRun(1);
    const { response } = await openStream(run.runId, "redis", "not-an-id");
    expect(response.status).toBe(400);
    expect((await response.json()).error.message).toMatch(/Last-Event-ID/);
  });

  it("makes a retried publish a no-op, and refuses messages for a run that does not exist", async () => {
    const run = await newRun(1);
    const message: AgentMessage = { type: "output", content: "x", run_id: run.runId, variation_id: "var-1", sequence: 1, timestamp: new Date().toISOString(), metadata: {} };
    expect(await publishMessage(redisClient(), message)).toMatch(/^\d+-\d+$/);
    expect(await publishMessage(redisClient(), message)).toBeNull();
    expect(await redisClient().xlen(keys.runEvents(run.runId))).toBe(1);
    await expect(publishMessage(redisClient(), { ...message, run_id: "run-zzzzzzzzzzzz" })).rejects.toBeInstanceOf(UnknownRunError);
    expect(await redisClient().exists(keys.runEvents("run-zzzzzzzzzzzz"))).toBe(0);
  });

  it("keeps a variation's final status: a status published after it is in the history but does not reopen it", async () => {
    const run = await newRun(1);
    const [agent] = publishers(redisClient(), run);
    await agent!.status("completed");
    await agent!.status("paused", { control_id: "ctl-0000000000000001" });
    expect(await redisClient().hget(keys.runVariations(run.runId), "var-1")).toBe("completed");
    expect(await redisClient().xlen(keys.runEvents(run.runId))).toBe(2);
  });

  it("numbers a server failure report after the agent's last accepted message", async () => {
    const run = await newRun(1);
    const [agent] = publishers(redisClient(), run);
    await agent!.output("a");
    await agent!.output("b");
    const report = await publishFailure(redisClient(), { runId: run.runId, variationId: "var-1", error: "OOMKilled" });
    expect(report.sequence).toBe(3);
    expect(await redisClient().hget(keys.runVariations(run.runId), "var-1")).toBe("failed");
    const again = await publishFailure(redisClient(), { runId: run.runId, variationId: "var-1", error: "x", atLeast: 10 });
    expect(again.sequence).toBe(10);
  });

  it("expires every key of a run RUN_TTL_SECONDS after its last message, and the runs list drops it", async () => {
    const run = await newRun(1);
    await redisClient().hset(keys.runMeta(run.runId), "ttl_seconds", 2);
    const [agent] = publishers(redisClient(), run);
    await agent!.output("short-lived");
    await sendControl(run.runId, { action: "pause" }); // so the run's control stream exists too
    await agent!.status("completed");
    for (const k of runKeys(run.runId)) {
      const ttl = await redisClient().ttl(k);
      expect(ttl, k).toBeGreaterThan(0);
      expect(ttl, k).toBeLessThanOrEqual(2);
    }
    expect((await listRuns()).some((r) => r.run_id === run.runId)).toBe(true);
    await eventually(() => redisClient().exists(...runKeys(run.runId)), (n) => n === 0, 5_000);
    expect((await listRuns()).some((r) => r.run_id === run.runId)).toBe(false);
    expect(await redisClient().zscore(keys.runsIndex(), run.runId)).toBeNull();
  });

  it("gives a run that never gets a message an expiry too", async () => {
    const run = await newRun(1);
    const ttl = await redisClient().ttl(keys.runMeta(run.runId));
    expect(ttl).toBeGreaterThan(0);
  });
});

/** The first `count` events of a run still going, read by a viewer who then leaves. */
async function wholeRunSoFar(runId: string, count: number): Promise<EventSourceMessage[]> {
  const { reader } = await openStream(runId);
  const events = await reader!.waitForEvents(count);
  reader!.abort();
  return events.slice(0, count);
}
