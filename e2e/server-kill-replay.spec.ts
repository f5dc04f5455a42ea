import { createParser } from "eventsource-parser";
import Redis from "ioredis";
import { expect, test } from "@playwright/test";
import { keys } from "../lib/channels";
import { agentMessageSchema, type AgentMessage } from "../lib/events";
import { publishMessage } from "../lib/publish";
import { toSseEvents } from "../lib/sse-events";
import { AppServer } from "./support/app-server";

/**
 * No browser: a client that resumes with Last-Event-ID while the server process is killed
 * (SIGKILL) and restarted twice mid-run must end with exactly the run's events, once, in order.
 */
test("resuming across server restarts loses and repeats nothing (10,000 events, 3 variations)", async () => {
  test.setTimeout(180_000);
  const server = await AppServer.create({ SSE_HEARTBEAT_MS: "1000" });
  const redis = new Redis(server.redisUrl);
  try {
    await server.start();
    // The run, as the API would create it; its agents are this test.
    const runId = "run-k1llr3st4rt0";
    await redis.hset(keys.runMeta(runId), { prompt: "kill", agent: "demo", variations: "var-1,var-2,var-3", created_at: new Date().toISOString(), ttl_seconds: 3600, stream_maxlen: 100_000 });
    await redis.zadd(keys.runsIndex(), Date.now(), runId);

    const TOTAL = 10_000;
    const publishing = (async () => {
      const sequences = [0, 0, 0];
      const send = (v: number, body: Pick<AgentMessage, "type" | "content">) =>
        publishMessage(redis, agentMessageSchema.parse({ ...body, run_id: runId, variation_id: `var-${v + 1}`, sequence: ++sequences[v]!, timestamp: new Date().toISOString() }));
      for (let i = 0; i < TOTAL - 3; i++) {
        await send(i % 3, { type: "output", content: `token ${i} ` });
        if (i % 100 === 0) await new Promise((r) => setTimeout(r, 50)); // ~5 s of live traffic
      }
      for (let v = 0; v < 3; v++) await send(v, { type: "status", content: "completed" });
    })();

    const received: string[] = [];
    let lastEventId = "";
    let done = false;
    let cuts = 0;
    const watching = (async () => {
      while (!done) {
        const controller = new AbortController();
        const response = await fetch(`${server.url}/api/v1/runs/${runId}/stream/redis`, { headers: lastEventId ? { "Last-Event-ID": lastEventId } : {}, signal: controller.signal }).catch(() => null);
        if (!response?.ok || !response.body) {
          await new Promise((r) => setTimeout(r, 200));
          continue;
        }
        const cutAfter = cuts < 30 ? 50 + Math.floor(Math.random() * 500) : Infinity;
        let taken = 0;
        const parser = createParser({
          onEvent: (e) => {
            if (done || taken >= cutAfter || e.event === "stream_open" || e.event === "heartbeat" || e.event === "agent_liveness") return;
            taken += 1;
            received.push(e.event === "run_complete" ? "run_complete" : `${e.id} ${e.event}`);
            if (e.id) lastEventId = e.id;
            if (e.event === "run_complete") done = true;
          },
        });
        const reader = response.body.getReader();
        const decoder = new TextDecoder();
        try {
          while (!done && taken < cutAfter) {
            const chunk = await reader.read();
            if (chunk.done) break;
            parser.feed(decoder.decode(chunk.value, { stream: true }));
          }
        } catch {
          // the server died under us
        }
        controller.abort();
        if (taken >= cutAfter) cuts += 1;
      }
    })();

    for (const at of [1_500, 1_500]) {
      await new Promise((r) => setTimeout(r, at));
      await server.kill();
      await new Promise((r) => setTimeout(r, 500));
      await server.start();
    }
    await publishing;
    await watching;

    const expected: string[] = [];
    for (const [id, fields] of await redis.xrange(keys.runEvents(runId), "-", "+")) {
      const message = agentMessageSchema.parse(JSON.parse(fields[1]!));
      for (const event of toSseEvents(message)) expected.push(`${id} ${event.event}`);
    }
    expect(expected).toHaveLength(TOTAL + 3);
    expect(received).toEqual([...expected, "run_complete"]);
  } finally {
    redis.disconnect();
    await server.dispose();
  }
});
