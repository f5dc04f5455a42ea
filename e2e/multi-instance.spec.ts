import fs from "node:fs";
import path from "node:path";
import { createParser, type EventSourceMessage } from "eventsource-parser";
import { expect, test } from "@playwright/test";
import { AppServer } from "./support/app-server";

/**
 * No browser: three app server processes on different ports over one Redis. A run created on
 * instance B (its demo agents are B's children) is listed by A, announced on A's runs feed and
 * streamed by a viewer on A; a pause posted to instance C and a resume posted to A reach B's
 * agent, which acknowledges on the viewer's stream, and the run completes there.
 */

type EventData = { variation_id?: string; status?: string; metadata?: { control_id?: string }; statuses?: Record<string, string>; run_id?: string; change?: string };

/** An SSE response read in the background: every event kept, waited for by predicate. */
class SseReader {
  readonly events: EventSourceMessage[] = [];
  private readonly done: Promise<void>;

  private constructor(
    response: Response,
    private readonly controller: AbortController,
  ) {
    const parser = createParser({ onEvent: (e) => this.events.push(e) });
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    this.done = (async () => {
      try {
        for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) parser.feed(decoder.decode(chunk.value, { stream: true }));
      } catch {
        // closed by close()
      }
    })();
  }

  static async open(url: string): Promise<SseReader> {
    const controller = new AbortController();
    const response = await fetch(url, { signal: controller.signal });
    expect(response.status, `GET ${url}`).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    return new SseReader(response, controller);
  }

  async waitFor(what: string, match: (e: EventSourceMessage) => boolean, timeoutMs = 15_000): Promise<EventSourceMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.find(match);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms; events seen: ${this.events.map((e) => e.event).join(", ")}`);
      await sleep(50);
    }
  }

  async close(): Promise<void> {
    this.controller.abort();
    await this.done;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const data = (e: EventSourceMessage) => JSON.parse(e.data) as EventData;
const outputsOf = (reader: SseReader, variationId: string) => reader.events.filter((e) => e.event === "agent_output" && data(e).variation_id === variationId).length;
const ackOf = (controlId: string, status: string) => (e: EventSourceMessage) => e.event === "agent_status" && data(e).status === status && data(e).metadata?.control_id === controlId;

async function postJson(url: string, body: unknown): Promise<Response> {
  return fetch(url, { method: "POST", body: JSON.stringify(body), headers: { "Content-Type": "application/json" } });
}

test("a viewer on instance A watches a run started on instance B and obeys a pause posted to C (one Redis)", async () => {
  test.setTimeout(150_000);
  // Slow enough to pause var-1 mid-answer; short heartbeats so idle streams still speak.
  const env = { DEMO_AGENT_SPEED: "2", SSE_HEARTBEAT_MS: "1000", LOG_LEVEL: "warn" };
  const a = await AppServer.create(env);
  const b = await AppServer.create(env, { redisUrl: a.redisUrl });
  const c = await AppServer.create(env, { redisUrl: a.redisUrl });
  const readers: SseReader[] = [];
  try {
    expect(new Set([a.port, b.port, c.port]).size).toBe(3);
    await Promise.all([a.start(), b.start(), c.start()]);

    // A's runs feed is open before B creates the run: the announcement crosses instances.
    const feed = await SseReader.open(`${a.url}/api/v1/stream`);
    readers.push(feed);
    await feed.waitFor("runs feed stream_open", (e) => e.event === "stream_open");

    const created = await postJson(`${b.url}/api/v1/runs`, { prompt: "Explain consistent hashing", variations: 2 });
    expect(created.status).toBe(202);
    const { run_id: runId } = (await created.json()) as { run_id: string };

    await feed.waitFor("run_changed created on A's feed", (e) => e.event === "run_changed" && data(e).run_id === runId && data(e).change === "created");
    const listed = (await (await fetch(`${a.url}/api/v1/runs`)).json()) as { runs: { run_id: string; variations: { variation_id: string }[] }[] };
    const run = listed.runs.find((r) => r.run_id === runId);
    expect(run, "A's runs list holds the run created on B").toBeDefined();
    expect(run!.variations.map((v) => v.variation_id)).toEqual(["var-1", "var-2"]);

    const viewer = await SseReader.open(`${a.url}/api/v1/runs/${runId}/stream/redis`);
    readers.push(viewer);
    await viewer.waitFor("var-1 output on A", (e) => e.event === "agent_output" && data(e).variation_id === "var-1", 30_000);

    // The agents are B's children: their stdout logs are in B's data folder, none in A's or C's.
    expect(fs.existsSync(path.join(b.dataDir, "logs", runId, "var-1.jsonl"))).toBe(true);
    expect(fs.existsSync(path.join(a.dataDir, "logs", runId))).toBe(false);
    expect(fs.existsSync(path.join(c.dataDir, "logs", runId))).toBe(false);

    // Pause var-1 through C, which neither runs the agent nor serves the viewer; B's agent
    // acknowledges on the stream A serves.
    const paused = await postJson(`${c.url}/api/v1/runs/${runId}/control`, { action: "pause", variation_id: "var-1" });
    expect(paused.status).toBe(202);
    const pause = (await paused.json()) as { control_id: string; variation_ids: string[] };
    expect(pause.variation_ids).toEqual(["var-1"]);
    await viewer.waitFor("paused acknowledgement on A (posted to C)", ackOf(pause.control_id, "paused"));

    // Paused means silent: no var-1 output for 1.5 s.
    const frozenAt = outputsOf(viewer, "var-1");
    await sleep(1_500);
    expect(outputsOf(viewer, "var-1")).toBe(frozenAt);

    const resumed = await postJson(`${a.url}/api/v1/runs/${runId}/control`, { action: "resume", variation_id: "var-1" });
    expect(resumed.status).toBe(202);
    const resume = (await resumed.json()) as { control_id: string };
    await viewer.waitFor("resumed acknowledgement on A", ackOf(resume.control_id, "resumed"));

    const complete = await viewer.waitFor("run_complete on A", (e) => e.event === "run_complete", 60_000);
    expect(data(complete).statuses).toEqual({ "var-1": "completed", "var-2": "completed" });
    expect(outputsOf(viewer, "var-1")).toBeGreaterThan(frozenAt);

    // And A reports the finished run as B does.
    const [fromA, fromB] = await Promise.all([a, b].map(async (s) => (await fetch(`${s.url}/api/v1/runs/${runId}`)).json()));
    expect(fromA).toEqual(fromB);
    expect((fromA as { status: string }).status).toBe("completed");
  } finally {
    await Promise.all(readers.map((r) => r.close()));
    // B and C first: they do not own the Redis that A started.
    await Promise.all([b.dispose(), c.dispose()]);
    await a.dispose();
  }
});
