/**
 * Under load (issue 6): a viewer that stops reading while 100,000 events flow is cut off, the
 * server's memory stays bounded, and a viewer that reads gets every event, in order.
 *
 * Both viewers call the Redis stream route the way Next would (like openStream); the stalled
 * one reads its first chunks, then never reads again. Events go through the publish script,
 * pipelined on one connection (Redis runs them in the order sent, so sequences still increase
 * per variation) over several variations.
 */
import { afterAll, describe, expect, it } from "vitest";
import { GET as redisStreamRoute } from "@/app/api/v1/runs/[runId]/stream/redis/route";
import type { AgentMessage } from "@/lib/events";
import { createLogger, replaceRootLogger } from "@/lib/log";
import { metrics } from "@/lib/metrics";
import { publishMessage } from "@/lib/publish";
import { compareStreamIds } from "@/lib/stream-ids";
import { captureLogs } from "../support/log-capture";
import { newRun, readSseBody, setupTestRedis } from "../support/helpers";

const redisClient = setupTestRedis();

const EVENTS = 100_000;
const VARIATIONS = 4;
/** Published at once, then awaited: keeps the reading viewer well within its buffer limit. */
const WINDOW = 1_000;
/** ~2.6 KB per SSE frame: 100,000 of them are ~260 MB, which a viewer holding them all would cost. */
const CONTENT = "x".repeat(2_500);
/**
 * How much server memory may grow during the flood (peak over the start). Measured on the 2-core
 * machine: +130-170 MB rss and +80-115 MB heap+array buffers with the cut-off; with
 * MAX_BUFFERED_BYTES = Infinity, +362 MB and +301 MB.
 */
const MiB = 1024 * 1024;
const MAX_RSS_GROWTH = 250 * MiB;
const MAX_HEAP_AND_BUFFERS_GROWTH = 200 * MiB;

const logs = captureLogs();
const restoreLogger = replaceRootLogger(createLogger(logs.destination, "info"));
afterAll(restoreLogger);

function message(runId: string, variationId: string, sequence: number, body: Pick<AgentMessage, "type" | "content">): AgentMessage {
  return { ...body, run_id: runId, variation_id: variationId, sequence, timestamp: new Date().toISOString(), metadata: {} } as AgentMessage;
}

async function openViewer(runId: string): Promise<{ body: ReadableStream<Uint8Array>; abort: AbortController }> {
  const abort = new AbortController();
  const request = new Request(`http://localhost/api/v1/runs/${runId}/stream/redis`, { signal: abort.signal });
  const response = await redisStreamRoute(request, { params: Promise.resolve({ runId }) });
  expect(response.status).toBe(200);
  return { body: response.body!, abort };
}

/** Reads until `text` has arrived, then stops reading for good (the reader keeps its lock). */
async function readUntil(body: ReadableStream<Uint8Array>, text: string): Promise<ReadableStreamDefaultReader<Uint8Array>> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let seen = "";
  while (!seen.includes(text)) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`stream ended before ${JSON.stringify(text)}`);
    seen += decoder.decode(value, { stream: true });
  }
  return reader;
}

/** Checks agent_output events as they arrive without keeping them (they total ~260 MB). */
function followOutputs(response: Response) {
  const state = { outputs: 0, outOfOrder: [] as string[], lastId: "0-0", next: new Map<string, number>(), runComplete: false };
  const { ended } = readSseBody(response, {
    onEvent: ({ event, id, data }) => {
      if (event === "run_complete") state.runComplete = true;
      if (event !== "agent_output") return;
      const { variation_id: variation, sequence } = JSON.parse(data) as { variation_id: string; sequence: number };
      const expected = state.next.get(variation) ?? 1;
      if (sequence !== expected || !id || compareStreamIds(id, state.lastId) <= 0) {
        if (state.outOfOrder.length < 5) state.outOfOrder.push(`${variation}#${sequence} (expected #${expected}) id ${id} after ${state.lastId}`);
      }
      state.next.set(variation, sequence + 1);
      state.lastId = id ?? state.lastId;
      state.outputs++;
    },
  });
  return { state, ended };
}

/**
 * Publish no faster than the app can pass events on: the test publishes and the app consumes in
 * one process, and Redis disconnects a subscriber whose unread pub/sub output passes 32 MB
 * (client-output-buffer-limit), which would end every stream here (they resume from history).
 */
async function waitForReader(state: { outputs: number }, atLeast: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (state.outputs < atLeast) {
    if (Date.now() > deadline) throw new Error(`the reading viewer is stuck at ${state.outputs} events (waiting for ${atLeast})`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Peak growth of the process's memory over its value when started. */
function memoryWatch() {
  const start = process.memoryUsage();
  let peakRss = start.rss;
  let peakHeap = start.heapUsed + start.arrayBuffers;
  const sample = () => {
    const now = process.memoryUsage();
    peakRss = Math.max(peakRss, now.rss);
    peakHeap = Math.max(peakHeap, now.heapUsed + now.arrayBuffers);
  };
  const timer = setInterval(sample, 20);
  return () => {
    clearInterval(timer);
    sample();
    return { rss: peakRss - start.rss, heapAndBuffers: peakHeap - start.heapUsed - start.arrayBuffers };
  };
}

const droppedSlowViewers = async () => (await metrics().slowViewersDropped.get()).values.find((v) => v.labels.backend === "redis")?.value ?? 0;

describe("a viewer that stops reading while 100,000 events flow", () => {
  it("is cut off and counted, memory stays bounded, and a reading viewer gets every event in order", async () => {
    const run = await newRun(VARIATIONS);
    const redis = redisClient();
    const stalled = await openViewer(run.runId);
    const normal = await openViewer(run.runId);
    const following = followOutputs(new Response(normal.body));

    // One first message per variation, awaited: loads the script (no NOSCRIPT retry can reorder
    // the pipelined ones) and shows both viewers are live before the flood.
    for (const variationId of run.variationIds) await publishMessage(redis, message(run.runId, variationId, 1, { type: "output", content: "ready" }));
    const stalledReader = await readUntil(stalled.body, `"variation_id":"${run.variationIds.at(-1)}","sequence":1,`);
    const droppedBefore = await droppedSlowViewers();

    const stopWatching = memoryWatch();
    const started = performance.now();
    const sequences = new Map(run.variationIds.map((id) => [id, 1]));
    for (let sent = VARIATIONS; sent < EVENTS; ) {
      await waitForReader(following.state, sent - VARIATIONS - 2 * WINDOW);
      const window: Promise<string | null>[] = [];
      for (; window.length < WINDOW && sent < EVENTS; sent++) {
        const variationId = run.variationIds[sent % VARIATIONS]!;
        const sequence = sequences.get(variationId)! + 1;
        sequences.set(variationId, sequence);
        window.push(publishMessage(redis, message(run.runId, variationId, sequence, { type: "output", content: CONTENT })));
      }
      expect((await Promise.all(window)).every((id) => id !== null)).toBe(true);
    }
    const published = performance.now() - started;
    for (const [variationId, last] of sequences) await publishMessage(redis, message(run.runId, variationId, last + 1, { type: "status", content: "completed" }));
    await following.ended;
    const growth = stopWatching();
    console.info(
      `slow viewer: ${EVENTS} events published in ${Math.round(published)} ms, read by the viewer in ${Math.round(performance.now() - started)} ms; ` +
        `peak growth rss ${(growth.rss / MiB).toFixed(0)} MB, heap+buffers ${(growth.heapAndBuffers / MiB).toFixed(0)} MB`,
    );

    // The reading viewer: every event, in order, then the end of the run.
    expect(following.state.outOfOrder).toEqual([]);
    expect(following.state.outputs).toBe(EVENTS);
    expect(following.state.runComplete).toBe(true);

    // The stalled viewer: cut off (what it had queued is dropped), logged and counted once.
    await expect(stalledReader.read()).rejects.toThrow(/too slow/);
    expect((await droppedSlowViewers()) - droppedBefore).toBe(1);
    const cutOff = logs.lines.filter((l) => l.run_id === run.runId && (l.msg === "sse viewer is not reading: disconnecting it" || l.reason === "too_slow"));
    expect(cutOff.map((l) => l.msg)).toEqual(["sse viewer is not reading: disconnecting it", "sse connection closed"]);

    // Memory: what the stalled viewer would have held (~260 MB) never piled up.
    expect(growth.rss).toBeLessThan(MAX_RSS_GROWTH);
    expect(growth.heapAndBuffers).toBeLessThan(MAX_HEAP_AND_BUFFERS_GROWTH);
  }, 120_000);
});
