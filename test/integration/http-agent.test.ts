/**
 * Agents over HTTP, end to end: the real agent runner with no Redis access (no REDIS_URL),
 * only RUNWATCH_API_URL and the run's token, talking to the real route handlers over a real
 * socket. It publishes, obeys pause and stop, and completes; bad tokens and bad batches are
 * refused and change nothing.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { EventSourceMessage } from "eventsource-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POST as controlRoute } from "@/app/api/v1/runs/[runId]/control/route";
import { GET as controlStreamRoute } from "@/app/api/v1/runs/[runId]/control/stream/route";
import { POST as eventsRoute } from "@/app/api/v1/runs/[runId]/events/route";
import { POST as heartbeatRoute } from "@/app/api/v1/runs/[runId]/heartbeat/route";
import { keys } from "@/lib/channels";
import { metrics } from "@/lib/metrics";
import { agentsIdle, startRun } from "@/lib/orchestrator";
import type { NewRun } from "@/lib/runs";
import { eventually, newRun, openStream, setupTestRedis, type SseReader } from "../support/helpers";
import { startRouteServer, type RouteServer } from "../support/route-server";

const presetsFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "runwatch-presets-")), "presets.jsonc");
fs.writeFileSync(presetsFile, `{ "presets": [ { "name": "demo-http", "transport": "http" } ] } // the demo agent, over HTTP\n`);
process.env.RUNWATCH_PRESETS_FILE = presetsFile;
process.env.DEMO_AGENT_SPEED = "2";

const redis = setupTestRedis();
let server: RouteServer;

beforeAll(async () => {
  server = await startRouteServer([
    { method: "POST", path: /^\/api\/v1\/runs\/([^/]+)\/events$/, handler: eventsRoute },
    { method: "GET", path: /^\/api\/v1\/runs\/([^/]+)\/control\/stream$/, handler: controlStreamRoute },
    { method: "POST", path: /^\/api\/v1\/runs\/([^/]+)\/heartbeat$/, handler: heartbeatRoute },
  ]);
  // Read by lib/env.ts on first use, which is after this.
  process.env.RUNWATCH_AGENT_API_URL = server.url;
});

afterAll(async () => {
  await agentsIdle(30_000);
  await server.close();
});

const data = (e: EventSourceMessage) => JSON.parse(e.data) as { variation_id?: string; status?: string; metadata?: { control_id?: string }; statuses?: Record<string, string> };
const ackOf = (controlId: string, status: string) => (e: EventSourceMessage) => e.event === "agent_status" && data(e).status === status && data(e).metadata?.control_id === controlId;
const outputsOf = (reader: SseReader, variationId: string) => reader.events.filter((e) => e.event === "agent_output" && data(e).variation_id === variationId).length;

async function control(runId: string, body: unknown): Promise<string> {
  const response = await controlRoute(new Request("http://localhost/x", { method: "POST", body: JSON.stringify(body) }), { params: Promise.resolve({ runId }) });
  expect(response.status).toBe(202);
  return ((await response.json()) as { control_id: string }).control_id;
}

function postEvents(runId: string, body: unknown, token?: string): Promise<Response> {
  return eventsRoute(
    new Request(`http://localhost/api/v1/runs/${runId}/events`, {
      method: "POST",
      body: JSON.stringify(body),
      headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    }),
    { params: Promise.resolve({ runId }) },
  );
}

function agentEnviron(runId: string, variationId: string): string[] | null {
  for (const entry of fs.readdirSync("/proc").filter((e) => /^\d+$/.test(e))) {
    try {
      const environ = fs.readFileSync(`/proc/${entry}/environ`, "utf8").split("\0");
      if (environ.includes(`RUNWATCH_RUN_ID=${runId}`) && environ.includes(`RUNWATCH_VARIATION_ID=${variationId}`)) return environ;
    } catch {
      // gone meanwhile
    }
  }
  return null;
}

describe("an agent that only speaks HTTP", () => {
  let run: NewRun;
  let reader: SseReader;

  beforeAll(async () => {
    run = await startRun({ prompt: "Over HTTP", agents: ["demo-http", "demo-http"] });
    reader = (await openStream(run.runId)).reader!;
  });
  afterAll(() => reader?.abort());

  it("is given the API URL and its token, and no way to reach Redis", async () => {
    const environ = await eventually(async () => agentEnviron(run.runId, "var-1"), (env) => env !== null, 5_000);
    expect(environ).toContain(`RUNWATCH_API_URL=${server.url}`);
    expect(environ).toContain(`RUNWATCH_AGENT_TOKEN=${run.agentToken}`);
    expect(environ!.some((line) => line.startsWith("REDIS_URL="))).toBe(false);
  });

  it("publishes, obeys pause and resume, and beats through POST .../heartbeat", async () => {
    await reader.waitForEvents(1, (e) => e.event === "agent_output" && data(e).variation_id === "var-1", 15_000);
    const beat = await redis().get(keys.agentHeartbeat(run.runId, "var-1"));
    expect(Date.parse(beat ?? "")).toBeGreaterThan(Date.now() - 20_000);

    const pauseId = await control(run.runId, { action: "pause", variation_id: "var-1" });
    await reader.waitForEvents(1, ackOf(pauseId, "paused"), 10_000);
    const before = outputsOf(reader, "var-1");
    await new Promise((r) => setTimeout(r, 1_500));
    expect(outputsOf(reader, "var-1")).toBe(before);

    const resumeId = await control(run.runId, { action: "resume", variation_id: "var-1" });
    await reader.waitForEvents(1, ackOf(resumeId, "resumed"), 10_000);
    await eventually(async () => outputsOf(reader, "var-1"), (n) => n > before, 10_000);
  });

  it("stops on a stop; the other variation completes; the run completes", async () => {
    // Paused first, so var-1 cannot finish on its own before the stop reaches it.
    const pauseId = await control(run.runId, { action: "pause", variation_id: "var-1" });
    await reader.waitForEvents(1, ackOf(pauseId, "paused"), 10_000);
    const stopId = await control(run.runId, { action: "stop", variation_id: "var-1" });
    await reader.waitForEvents(1, ackOf(stopId, "stopped"), 10_000);
    const [complete] = await reader.waitForEvents(1, (e) => e.event === "run_complete", 30_000);
    expect(data(complete!).statuses).toEqual({ "var-1": "stopped", "var-2": "completed" });
    const sequences = reader.events.filter((e) => e.event === "agent_output" && data(e).variation_id === "var-2").map((e) => (JSON.parse(e.data) as { sequence: number }).sequence);
    expect(sequences).toEqual([...sequences].sort((a, b) => a - b)); // in order, as the agent sent them
  });
});

describe("who may publish", () => {
  const message = (runId: string, sequence: number, extra: Record<string, unknown> = {}) => ({
    type: "output",
    content: "hello",
    run_id: runId,
    variation_id: "var-1",
    sequence,
    timestamp: new Date().toISOString(),
    ...extra,
  });

  it("refuses a missing or wrong token with 401, another run's with 403, and publishes nothing", async () => {
    const run = await startRun({ prompt: "Tokens", agents: ["demo-http"] });
    const other = await startRun({ prompt: "Other", agents: ["demo-http"] });
    const missing = await postEvents(run.runId, { messages: [message(run.runId, 900)] });
    expect(missing.status).toBe(401);
    expect(missing.headers.get("www-authenticate")).toMatch(/Bearer/);
    expect(((await missing.json()) as { error: { message: string } }).error.message).toMatch(/Authorization: Bearer/);
    const wrong = await postEvents(run.runId, { messages: [message(run.runId, 901)] }, "rwa_not-the-token");
    expect(wrong.status).toBe(401);
    const otherRunsToken = await postEvents(run.runId, { messages: [message(run.runId, 902)] }, other.agentToken);
    expect(otherRunsToken.status).toBe(403);
    for (const [token, status] of [[undefined, 401], ["rwa_not-the-token", 401], [other.agentToken, 403]] as const) {
      const headers = token ? { Authorization: `Bearer ${token}` } : undefined;
      const stream = await controlStreamRoute(new Request(`http://localhost/api/v1/runs/${run.runId}/control/stream`, { headers }), { params: Promise.resolve({ runId: run.runId }) });
      expect(stream.status, String(token)).toBe(status);
      const beat = await heartbeatRoute(new Request(`http://localhost/api/v1/runs/${run.runId}/heartbeat`, { method: "POST", headers, body: JSON.stringify({ variation_id: "var-1" }) }), { params: Promise.resolve({ runId: run.runId }) });
      expect(beat.status, String(token)).toBe(status);
    }
    const unknownVariation = await heartbeatRoute(
      new Request(`http://localhost/api/v1/runs/${run.runId}/heartbeat`, { method: "POST", headers: { Authorization: `Bearer ${run.agentToken}` }, body: JSON.stringify({ variation_id: "var-7" }) }),
      { params: Promise.resolve({ runId: run.runId }) },
    );
    expect(unknownVariation.status).toBe(404);
    const sequences = (await redis().xrange(keys.runEvents(run.runId), "-", "+")).map(([, f]) => (JSON.parse(f[1]!) as { sequence: number }).sequence);
    expect(sequences.filter((s) => s >= 900)).toEqual([]);
    await control(run.runId, { action: "stop" });
    await control(other.runId, { action: "stop" });
  });

  it("checks a whole batch before publishing any of it (422), and takes a good one in order", async () => {
    const run = await newRun(1); // no agent process: this test is the agent
    const lengthBefore = await redis().xlen(keys.runEvents(run.runId));
    const bad = await postEvents(run.runId, { messages: [message(run.runId, 1000), message(run.runId, 1001, { type: "nonsense" }), message("run-000000000000", 1002)] }, run.agentToken);
    expect(bad.status).toBe(422);
    const problems = ((await bad.json()) as { error: { message: string; details: { problems: string[] } } }).error.details.problems;
    expect(problems).toEqual([expect.stringMatching(/^messages\.1/), expect.stringMatching(/^messages\.2\.run_id/)]);
    expect(await redis().xlen(keys.runEvents(run.runId))).toBe(lengthBefore);
    // The bad ones are kept and counted, as dead letters from an inbox are.
    const dead = await redis().xrange(keys.runDeadLetters(run.runId), "-", "+");
    expect(dead.map(([, f]) => [f[f.indexOf("reason") + 1], f[f.indexOf("source") + 1]])).toEqual([["invalid", "http"], ["wrong_run", "http"]]);
    expect((await metrics().deadLetters.get()).values.find((v) => v.labels.reason === "wrong_run")?.value).toBeGreaterThanOrEqual(1);

    const good = await postEvents(run.runId, { messages: [message(run.runId, 1000, { content: "a" }), message(run.runId, 1001, { content: "b" }), message(run.runId, 1000, { content: "a" })] }, run.agentToken);
    expect(good.status).toBe(200);
    const published = ((await good.json()) as { published: { sequence: number; id: string | null }[] }).published;
    expect(published.map((p) => [p.sequence, p.id === null])).toEqual([[1000, false], [1001, false], [1000, true]]); // the repeat is a no-op
    expect(await redis().xlen(keys.runEvents(run.runId))).toBe(lengthBefore + 2);
    expect((await postEvents(run.runId, { messages: [] }, run.agentToken)).status).toBe(400);
  });
});
