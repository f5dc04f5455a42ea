/**
 * Choosing a run's winner (POST /api/v1/runs/<id>/select) and the runs feed (GET
 * /api/v1/stream) against a real redis-server. Other suites run in parallel on the same Redis,
 * so feed assertions look only at this file's runs.
 */
import type { EventSourceMessage } from "eventsource-parser";
import { describe, expect, it, vi } from "vitest";
import { GET as getRunRoute } from "@/app/api/v1/runs/[runId]/route";
import { POST as selectRoute } from "@/app/api/v1/runs/[runId]/select/route";
import { GET as listRunsRoute } from "@/app/api/v1/runs/route";
import { GET as feedRoute } from "@/app/api/v1/stream/route";
import { applyRunStatus } from "@/hooks/use-runs";
import { channels, keys } from "@/lib/channels";
import type { Run } from "@/lib/events";
import { getRedis } from "@/lib/redis";
import { createLogger, replaceRootLogger } from "@/lib/log";
import { eventually, newRun, ownPatternSubscriptions as sharedOwnPatternSubscriptions, publishers, readSseBody, setupTestRedis, subscriberConnection, viewerPatterns } from "../support/helpers";
import { captureLogs } from "../support/log-capture";

const redisClient = setupTestRedis();

const runParams = (runId: string) => ({ params: Promise.resolve({ runId }) });
const select = (runId: string, body: string) =>
  selectRoute(new Request(`http://localhost/api/v1/runs/${runId}/select`, { method: "POST", body, headers: { "Content-Type": "application/json" } }), runParams(runId));
const selectJson = (runId: string, variationId: string) => select(runId, JSON.stringify({ winning_variation_id: variationId }));
const fetchRun = async (runId: string): Promise<Run> => (await getRunRoute(new Request("http://localhost"), runParams(runId))).json();
const fetchList = async (): Promise<Run[]> => (await (await listRunsRoute(new Request("http://localhost/api/v1/runs"))).json()).runs;

/** A run whose variations all published `completed`. */
async function completedRun(variations = 2) {
  const run = await newRun(variations);
  for (const agent of publishers(redisClient(), run)) await agent.status("completed");
  return run;
}

interface Feed {
  response: Response;
  events: EventSourceMessage[];
  /** Resolves with the first event (in arrival order) matching `match`. */
  waitFor(match: (event: EventSourceMessage, data: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<EventSourceMessage>;
  ended: Promise<void>;
  abort(): void;
}

/** Calls the feed route the way Next would and reads its SSE body with a spec-complete parser. */
async function openFeed(): Promise<Feed> {
  const controller = new AbortController();
  const response = await feedRoute(new Request("http://localhost/api/v1/stream", { signal: controller.signal }));
  expect(response.status).toBe(200);
  const events: EventSourceMessage[] = [];
  const wake = new Set<() => void>();
  const { ended, cancel } = readSseBody(response, {
    onEvent: (event) => {
      events.push(event);
      for (const fn of [...wake]) fn();
    },
  });
  return {
    response,
    events,
    ended,
    waitFor(match, timeoutMs = 5_000) {
      const find = () => events.find((e) => match(e, JSON.parse(e.data) as Record<string, unknown>));
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = find();
          if (!found) return;
          clearTimeout(timer);
          wake.delete(check);
          resolve(found);
        };
        const timer = setTimeout(() => {
          wake.delete(check);
          reject(new Error(`timed out after ${timeoutMs} ms; got ${JSON.stringify(events.map((e) => [e.event, e.data]))}`));
        }, timeoutMs);
        wake.add(check);
        check();
      });
    },
    abort() {
      controller.abort();
      cancel();
    },
  };
}

const ownPatternSubscriptions = () => sharedOwnPatternSubscriptions(redisClient());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("POST /api/v1/runs/<id>/select", () => {
  it("refuses with 409 while a variation is still running", async () => {
    const run = await newRun(2);
    const [a, b] = publishers(redisClient(), run);
    await a!.status("completed");
    await b!.status("running");
    const response = await selectJson(run.runId, "var-1");
    expect(response.status).toBe(409);
    const { error } = await response.json();
    expect(error.code).toBe("conflict");
    expect(error.message).toMatch(/still running; select a winner once every variation has finished/);
    expect(error.message).toContain("var-2");
    expect(await redisClient().hget(keys.runMeta(run.runId), "winner")).toBeNull();
  });

  it("answers 404 naming the run's variations for a variation not in the run", async () => {
    const run = await completedRun(2);
    const response = await selectJson(run.runId, "var-3");
    expect(response.status).toBe(404);
    expect((await response.json()).error.message).toMatch(/var-3.*var-1, var-2/);
  });

  it("answers 404 for a run that does not exist and 400 for a malformed run id", async () => {
    expect((await selectJson("run-000000000000", "var-1")).status).toBe(404);
    for (const bad of ["nope", "run-*", "run-ABCDEFGHIJKL"]) {
      const response = await selectJson(bad, "var-1");
      expect(response.status, bad).toBe(400);
      expect((await response.json()).error.message, bad).toMatch(/Invalid run id/);
    }
  });

  it("answers 400 naming the problem for a bad body", async () => {
    const run = await completedRun(1);
    const cases: [string, RegExp][] = [
      ["{not json", /body: not valid JSON/],
      ["", /body: a JSON object is required/],
      [JSON.stringify({}), /winning_variation_id/],
      [JSON.stringify({ winning_variation_id: "" }), /winning_variation_id/],
      [JSON.stringify({ winning_variation_id: "var 1; DROP" }), /winning_variation_id/],
      [JSON.stringify({ winning_variation_id: 1 }), /winning_variation_id/],
    ];
    for (const [body, message] of cases) {
      const response = await select(run.runId, body);
      expect(response.status, body).toBe(400);
      expect((await response.json()).error.message, body).toMatch(message);
    }
    expect(await redisClient().hget(keys.runMeta(run.runId), "winner")).toBeNull();
  });

  it("records the winner of a complete run, shown by GET run and the runs list, and keeps the run's TTL", async () => {
    const run = await completedRun(3);
    const response = await selectJson(run.runId, "var-2");
    expect(response.status).toBe(200);
    const { run: answered } = await response.json();
    expect(answered).toMatchObject({ run_id: run.runId, status: "completed", winner: "var-2" });

    expect(await fetchRun(run.runId)).toMatchObject({ run_id: run.runId, winner: "var-2" });
    expect((await fetchList()).find((r) => r.run_id === run.runId)?.winner).toBe("var-2");
    const selectedAt = await redisClient().hget(keys.runMeta(run.runId), "winner_selected_at");
    expect(Date.now() - Date.parse(selectedAt ?? "")).toBeLessThan(60_000);
    expect(await redisClient().ttl(keys.runMeta(run.runId))).toBeGreaterThan(0);
  });

  it("lists a run without a choice with winner null", async () => {
    const run = await completedRun(1);
    expect((await fetchRun(run.runId)).winner).toBeNull();
  });

  it("replaces the choice when a winner is selected again", async () => {
    const run = await completedRun(2);
    expect((await selectJson(run.runId, "var-1")).status).toBe(200);
    const again = await selectJson(run.runId, "var-2");
    expect(again.status).toBe(200);
    expect((await again.json()).run.winner).toBe("var-2");
    expect((await fetchRun(run.runId)).winner).toBe("var-2");
  });

  it("does not bring back a run that expires between the check and the write", async () => {
    const run = await completedRun(1);
    const redis = getRedis();
    const evalOriginal = redis.eval.bind(redis) as (...args: unknown[]) => Promise<unknown>;
    // The run's keys expire right after selectWinner read the run.
    const spy = vi.spyOn(redis, "eval").mockImplementationOnce((async (...args: unknown[]) => {
      await redisClient().del(keys.runMeta(run.runId));
      return evalOriginal(...args);
    }) as never);
    try {
      const response = await selectJson(run.runId, "var-1");
      expect(response.status).toBe(404);
      expect(spy).toHaveBeenCalledTimes(1);
    } finally {
      spy.mockRestore();
    }
    // An HSET without the guard would have created a meta hash with no TTL, kept forever.
    expect(await redisClient().exists(keys.runMeta(run.runId))).toBe(0);
  });
});

describe("GET /api/v1/stream", () => {
  it("opens with stream_open {heartbeat_ms} and sends heartbeats", async () => {
    const feed = await openFeed();
    expect(feed.response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const open = await feed.waitFor((e) => e.event === "stream_open");
    expect(JSON.parse(open.data)).toEqual({ heartbeat_ms: 250 }); // SSE_HEARTBEAT_MS=250 in tests
    expect(feed.events[0]?.event).toBe("stream_open");
    await feed.waitFor((e) => e.event === "heartbeat", 3_000);
    feed.abort();
  });

  it("delivers run_changed for a created run and run_status for any run's agents", async () => {
    const feed = await openFeed();
    await feed.waitFor((e) => e.event === "stream_open");
    const first = await newRun(2);
    const second = await newRun(1);
    for (const run of [first, second]) {
      const created = await feed.waitFor((e, d) => e.event === "run_changed" && d.run_id === run.runId);
      expect(JSON.parse(created.data)).toEqual({ run_id: run.runId, change: "created" });
    }
    const [, b] = publishers(redisClient(), first);
    const [c] = publishers(redisClient(), second);
    const published = await b!.status("running");
    await c!.status("failed", { error: "gave up" });

    const status = await feed.waitFor((e, d) => e.event === "run_status" && d.run_id === first.runId);
    expect(JSON.parse(status.data)).toEqual({ run_id: first.runId, variation_id: "var-2", status: "running", timestamp: published.timestamp });
    const other = await feed.waitFor((e, d) => e.event === "run_status" && d.run_id === second.runId);
    expect(JSON.parse(other.data)).toMatchObject({ variation_id: "var-1", status: "failed" });
    // Not resumable: the client refetches on reconnect, so events carry no ids.
    expect(status.id).toBeUndefined();
    feed.abort();
  });

  it("delivers run_changed winner after a selection", async () => {
    const run = await completedRun(2);
    const feed = await openFeed();
    await feed.waitFor((e) => e.event === "stream_open");
    expect((await selectJson(run.runId, "var-1")).status).toBe(200);
    const changed = await feed.waitFor((e, d) => e.event === "run_changed" && d.run_id === run.runId);
    expect(JSON.parse(changed.data)).toEqual({ run_id: run.runId, change: "winner" });
    feed.abort();
  });

  it("serves many viewers with one subscription per pattern, released when the last leaves", async () => {
    await eventually(ownPatternSubscriptions, (n) => n === 0);
    const feeds = await Promise.all(Array.from({ length: 30 }, () => openFeed()));
    expect(await ownPatternSubscriptions()).toBe(2);
    expect(viewerPatterns().sort()).toEqual([channels.allStatuses(), channels.runsChanged()].sort());

    const run = await newRun(1);
    const [agent] = publishers(redisClient(), run);
    await agent!.status("starting");
    for (const feed of feeds) {
      await feed.waitFor((e, d) => e.event === "run_changed" && d.run_id === run.runId);
      await feed.waitFor((e, d) => e.event === "run_status" && d.run_id === run.runId);
    }
    feeds.slice(1).forEach((feed) => feed.abort());
    await sleep(100);
    expect(await ownPatternSubscriptions()).toBe(2); // the last viewer still holds them
    feeds[0]!.abort();
    await eventually(ownPatternSubscriptions, (n) => n === 0);
    expect(viewerPatterns()).toEqual([]);
  });

  it("skips malformed and misrouted payloads and goes on with the next good one", async () => {
    const feed = await openFeed();
    await feed.waitFor((e) => e.event === "stream_open");
    const run = await newRun(1);
    const logs = captureLogs();
    const restoreLogger = replaceRootLogger(createLogger(logs.destination, "warn"));
    try {
      const statusChannel = channels.status(run.runId);
      const statusMessage = { timestamp: new Date().toISOString(), run_id: run.runId, variation_id: "var-1", sequence: 1, type: "status", content: "running", metadata: {} };
      await redisClient().publish(statusChannel, "not json {");
      await redisClient().publish(statusChannel, "null");
      // Published without the script: no stream id.
      await redisClient().publish(statusChannel, JSON.stringify({ message: statusMessage }));
      // An envelope whose message is not a status, or names another run than its channel.
      await redisClient().publish(statusChannel, JSON.stringify({ id: "1-0", message: { ...statusMessage, type: "output", content: "hi" } }));
      await redisClient().publish(statusChannel, JSON.stringify({ id: "1-0", message: { ...statusMessage, run_id: "run-000000000000" } }));
      // `run:*:status` also matches the output channel of a variation called "status".
      await redisClient().publish(channels.output(run.runId, "status"), JSON.stringify({ id: "1-0", message: { ...statusMessage, variation_id: "status" } }));
      await redisClient().publish(channels.runsChanged(), "{broken");
      await redisClient().publish(channels.runsChanged(), JSON.stringify({ run_id: run.runId, change: "deleted" }));

      const [agent] = publishers(redisClient(), run);
      await agent!.status("completed");
      await feed.waitFor((e, d) => e.event === "run_status" && d.status === "completed" && d.run_id === run.runId);
      const mine = feed.events.filter((e) => (JSON.parse(e.data) as { run_id?: string }).run_id === run.runId);
      expect(mine.map((e) => [e.event, JSON.parse(e.data).change ?? JSON.parse(e.data).status])).toEqual([
        ["run_changed", "created"],
        ["run_status", "completed"],
      ]);
      // Other suites publish bad messages on their own runs meanwhile: count ours only.
      const warnings = logs.lines.filter(
        (line) => line.level === "warn" && line.component === "runs_feed" && (line.channel === statusChannel || line.channel === channels.runsChanged()),
      );
      expect(warnings.length).toBe(7); // every bad payload but the output channel's, which is not ours
    } finally {
      restoreLogger();
      feed.abort();
    }
  });

  it("ends the stream when the subscriber's connection to Redis drops, and a new one works", async () => {
    const feed = await openFeed();
    await feed.waitFor((e) => e.event === "stream_open");
    const port = subscriberConnection().stream?.localPort;
    expect(port).toBeGreaterThan(0);
    await redisClient().client("KILL", "ADDR", `127.0.0.1:${port}`);
    // Messages published while it was away are lost: the browser must reconnect and refetch.
    await Promise.race([feed.ended, sleep(5_000).then(() => Promise.reject(new Error("the feed did not end after the subscriber dropped")))]);

    await eventually(ownPatternSubscriptions, (n) => n === 0);
    const next = await openFeed();
    await next.waitFor((e) => e.event === "stream_open");
    const run = await newRun(1);
    await next.waitFor((e, d) => e.event === "run_changed" && d.run_id === run.runId);
    next.abort();
  });
});

describe("applyRunStatus (the runs list's live update)", () => {
  const run = (statuses: (Run["variations"][number]["status"])[]): Run => ({
    run_id: "run-aaaaaaaaaaaa",
    prompt: "p",
    agent: "demo",
    created_at: "2026-01-01T00:00:00.000Z",
    status: "running",
    variations: statuses.map((status, i) => ({ variation_id: `var-${i + 1}`, status, agent: "demo" })),
    winner: null,
  });
  const update = (variation_id: string, status: "running" | "completed" | "failed") => ({ run_id: "run-aaaaaaaaaaaa", variation_id, status, timestamp: "t" });

  it("updates one variation and completes the run once every variation is terminal", () => {
    const once = applyRunStatus([run(["running", "running"])], update("var-1", "completed"))!;
    expect(once[0]).toMatchObject({ status: "running", variations: [{ status: "completed" }, { status: "running" }] });
    const twice = applyRunStatus(once, update("var-2", "failed"))!;
    expect(twice[0]?.status).toBe("completed");
  });

  it("answers null for a run or variation the list does not have, and keeps a final status", () => {
    expect(applyRunStatus([run(["running"])], { ...update("var-1", "running"), run_id: "run-bbbbbbbbbbbb" })).toBeNull();
    expect(applyRunStatus([run(["running"])], update("var-2", "running"))).toBeNull();
    const list = [run(["completed"])];
    expect(applyRunStatus(list, update("var-1", "running"))).toBe(list);
  });
});
