/**
 * The Redis SSE route against a real redis-server: event mapping and order, heartbeat,
 * subscription clean-up, one connection for many viewers, bad input.
 */
import { describe, expect, it, vi } from "vitest";
import { channels } from "@/lib/channels";
import { getSubscriber } from "@/lib/subscriber";
import { eventually, newRun, openStream, ownPatternSubscriptions, publishers, setupTestRedis, subscriberConnection } from "../support/helpers";

const redisClient = setupTestRedis();

const numpat = () => ownPatternSubscriptions(redisClient());
/** Pattern subscriptions held by the app's shared subscriber connection (CLIENT LIST psub=). */
const appPatternSubscriptions = numpat;
const clientCount = async () => (await redisClient().client("LIST") as string).trim().split("\n").length;

describe("GET /api/v1/runs/<id>/stream/redis", () => {
  it("turns each channel's messages into the matching SSE events, in order, then run_complete", async () => {
    const run = await newRun(2);
    const { response, reader } = await openStream(run.runId);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(response.headers.get("cache-control")).toBe("no-cache, no-transform");
    const [a, b] = publishers(redisClient(), run);

    await a!.status("running");
    await a!.output("# Hello");
    await a!.log("thinking", "warn");
    await a!.metric({ tokens: 2 });
    await b!.status("failed", { error: "model refused", exit_code: 3 });
    await a!.output(" world");
    await a!.status("completed");

    const events = await reader!.waitForEvents(10);
    expect(events.map((e) => e.event)).toEqual([
      "agent_status",
      "agent_output",
      "agent_log",
      "agent_metric",
      "agent_status",
      "agent_error",
      "agent_output",
      "agent_status",
      "agent_complete",
      "run_complete",
    ]);
    const data = events.map((e) => JSON.parse(e.data));
    expect(data[1]).toMatchObject({ variation_id: "var-1", sequence: 2, content: "# Hello", run_id: run.runId });
    expect(data[1].timestamp).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(data[2]).toMatchObject({ level: "warn", content: "thinking" });
    expect(data[3]).toMatchObject({ metrics: { tokens: 2 } });
    expect(data[5]).toMatchObject({ variation_id: "var-2", error: "model refused", exit_code: 3 });
    expect(data[9]).toMatchObject({ run_id: run.runId, statuses: { "var-1": "completed", "var-2": "failed" } });
    // The server ends the stream after run_complete.
    await reader!.ended;
  });

  it("opens with stream_open naming the backend and its heartbeat, then sends heartbeat events while idle", async () => {
    const run = await newRun(1);
    const { reader } = await openStream(run.runId);
    const open = await reader!.waitForConnectionEvent("stream_open");
    expect(JSON.parse(open.data)).toEqual({ backend: "redis", heartbeat_ms: 250 }); // SSE_HEARTBEAT_MS=250 in tests
    const heartbeat = await reader!.waitForConnectionEvent("heartbeat", 3_000);
    expect(Date.parse(JSON.parse(heartbeat.data).timestamp)).toBeGreaterThan(Date.now() - 5_000);
    expect(reader!.connectionEvents[0]?.event).toBe("stream_open");
    reader!.abort();
  });

  it("unsubscribes the run's pattern when the last viewer disconnects", async () => {
    const run = await newRun(1);
    const before = await numpat();
    const first = (await openStream(run.runId)).reader!;
    const second = (await openStream(run.runId)).reader!;
    expect(await numpat()).toBe(before + 1);
    first.abort();
    // the other viewer still holds the subscription
    await new Promise((r) => setTimeout(r, 100));
    expect(await numpat()).toBe(before + 1);
    second.abort();
    await eventually(numpat, (n) => n === before);
  });

  it("serves 50 viewers of one run without a new Redis connection, each getting every event", async () => {
    const run = await newRun(1);
    const warm = (await openStream(run.runId)).reader!; // opens the app's connections once
    const connectionsBefore = await clientCount();
    const viewers = await Promise.all(Array.from({ length: 50 }, async () => (await openStream(run.runId)).reader!));
    expect(await clientCount()).toBe(connectionsBefore);
    // 51 viewers, one PSUBSCRIBE on the app's one subscriber connection
    expect(await appPatternSubscriptions()).toBe(1);

    const [agent] = publishers(redisClient(), run);
    for (let i = 0; i < 20; i++) await agent!.output(`chunk ${i} `);
    await agent!.status("completed");
    for (const viewer of viewers) {
      const outputs = await viewer.waitForEvents(20, (e) => e.event === "agent_output");
      expect(outputs.map((e) => JSON.parse(e.data).content)).toEqual(Array.from({ length: 20 }, (_, i) => `chunk ${i} `));
      await viewer.waitForEvents(1, (e) => e.event === "run_complete");
    }
    warm.abort();
  });

  it("delivers messages still in flight when the hash already says the run is over", async () => {
    const run = await newRun(2);
    const [a, b] = publishers(redisClient(), run);
    const subscriber = getSubscriber();
    const subscribe = subscriber.subscribe.bind(subscriber);
    const socket = () => subscriberConnection().stream; // exists once connected
    // Right after the route subscribes, the whole run happens while our socket holds the
    // messages back: the route's next hash read then says "completed" before any arrived.
    const spy = vi.spyOn(subscriber, "subscribe").mockImplementationOnce(async (...args) => {
      const unsubscribe = await subscribe(...args);
      const paused = socket();
      paused.pause();
      await a!.status("running");
      for (let i = 0; i < 50; i++) await a!.output(`${i} `);
      await a!.status("completed");
      await b!.status("failed", { error: "gave up" });
      // The same socket object: by then the suite may have closed and replaced the connection.
      setTimeout(() => paused.resume(), 200);
      return unsubscribe;
    });
    try {
      const { reader } = await openStream(run.runId);
      await reader!.ended;
      const names = reader!.events.map((e) => e.event);
      expect(names).toEqual([
        "agent_status",
        ...Array.from({ length: 50 }, () => "agent_output"),
        "agent_status",
        "agent_complete",
        "agent_status",
        "agent_error",
        "run_complete",
      ]);
    } finally {
      spy.mockRestore();
      socket()?.resume();
    }
  });

  it("drain() waits for messages Redis already sent to the shared subscriber", async () => {
    const run = await newRun(1);
    const subscriber = getSubscriber();
    const received: string[] = [];
    const unsubscribe = await subscriber.subscribe(channels.runPattern(run.runId), (_channel, message) => received.push(message));
    const socket = subscriberConnection().stream;
    socket.pause(); // the messages wait in the socket until drain() is under way
    const pipeline = redisClient().pipeline();
    for (let i = 0; i < 2_000; i++) pipeline.publish(channels.status(run.runId), String(i));
    await pipeline.exec();
    expect(received).toHaveLength(0);
    socket.resume();
    await subscriber.drain();
    expect(received).toHaveLength(2_000);
    await unsubscribe();
  });

  it("skips a malformed message and delivers the next good one", async () => {
    const run = await newRun(1);
    const { reader } = await openStream(run.runId);
    const [agent] = publishers(redisClient(), run);
    await redisClient().publish(channels.output(run.runId, "var-1"), "this is not JSON");
    await redisClient().publish(channels.output(run.runId, "var-1"), JSON.stringify({ type: "output", content: 42 }));
    // well-formed, but a status message on an output channel
    await redisClient().publish(
      channels.output(run.runId, "var-1"),
      JSON.stringify({ type: "status", content: "completed", run_id: run.runId, variation_id: "var-1", sequence: 1, timestamp: new Date().toISOString() }),
    );
    await agent!.output("still here");
    const [event] = await reader!.waitForEvents(1);
    expect(event?.event).toBe("agent_output");
    expect(JSON.parse(event!.data).content).toBe("still here");
    expect(reader!.events).toHaveLength(1);
    reader!.abort();
  });

  it("answers a run id with glob characters with 400 and subscribes nothing", async () => {
    // This process's own subscriptions: PUBSUB NUMPAT counts every test file's, which run in parallel.
    const before = [...getSubscriber().activePatterns()];
    for (const bad of ["run-*", "run-0123456789a?", "run-[ab]", "run:x:status"]) {
      const { response } = await openStream(bad);
      expect(response.status, bad).toBe(400);
      expect((await response.json()).error.message).toMatch(/Invalid run id/);
    }
    expect(getSubscriber().activePatterns()).toEqual(before);
  });

  it("answers an unknown run with 404", async () => {
    const { response } = await openStream("run-000000000000");
    expect(response.status).toBe(404);
    expect((await response.json()).error).toMatchObject({ code: "not_found" });
  });

  it("sends a finished run's whole history, then run_complete, and ends", async () => {
    const run = await newRun(1);
    const [agent] = publishers(redisClient(), run);
    await agent!.output("done");
    await agent!.status("completed");
    const { reader } = await openStream(run.runId);
    await reader!.ended;
    expect(reader!.events.map((e) => e.event)).toEqual(["agent_output", "agent_status", "agent_complete", "run_complete"]);
  });
});
