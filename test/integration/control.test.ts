/**
 * Control end to end with real agent processes (the demo agent through the runner) and a real
 * redis-server: pause → acknowledgement → silence → resume → output again → stop → stopped,
 * the run still completing; refusals for finished runs, unknown variations and bad bodies;
 * heartbeats and liveness; an agent killed with SIGKILL reported with its exit code.
 */
import fs from "node:fs";
import type { EventSourceMessage } from "eventsource-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POST as controlRoute } from "@/app/api/v1/runs/[runId]/control/route";
import { keys } from "@/lib/channels";
import { agentsIdle, launchRun, runnerCommand, startRun } from "@/lib/orchestrator";
import { DEMO } from "@/lib/presets";
import { createRun } from "@/lib/runs";
import { eventually, newRun, openStream, setupTestRedis, type SseReader } from "../support/helpers";

// Slow enough to pause a variation mid-answer, fast enough for a test; short heartbeats.
process.env.DEMO_AGENT_SPEED = "1.5";
process.env.AGENT_HEARTBEAT_TTL_SECONDS = "2";

const redis = setupTestRedis();

function control(runId: string, body: unknown): Promise<Response> {
  return controlRoute(
    new Request(`http://localhost/api/v1/runs/${runId}/control`, { method: "POST", body: JSON.stringify(body), headers: { "Content-Type": "application/json" } }),
    { params: Promise.resolve({ runId }) },
  );
}

const data = (e: EventSourceMessage) => JSON.parse(e.data) as { variation_id?: string; status?: string; metadata?: { control_id?: string }; exit_code?: number; error?: string; statuses?: Record<string, string> };
const outputsOf = (reader: SseReader, variationId: string) => reader.events.filter((e) => e.event === "agent_output" && data(e).variation_id === variationId).length;
const ackOf = (controlId: string, status: string) => (e: EventSourceMessage) => e.event === "agent_status" && data(e).status === status && data(e).metadata?.control_id === controlId;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The pid of a variation's agent runner, found by its environment. */
function agentPid(runId: string, variationId: string): number | null {
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const environ = fs.readFileSync(`/proc/${entry}/environ`, "utf8").split("\0");
      if (environ.includes(`RUNWATCH_RUN_ID=${runId}`) && environ.includes(`RUNWATCH_VARIATION_ID=${variationId}`)) return Number(entry);
    } catch {
      // a process that ended meanwhile, or not ours
    }
  }
  return null;
}

afterAll(async () => {
  await agentsIdle(30_000);
});

describe("pause, resume and stop a real agent", () => {
  let runId: string;
  let reader: SseReader;

  beforeAll(async () => {
    runId = (await startRun({ prompt: "Explain backpressure", agents: ["demo", "demo", "demo"] })).runId;
    const opened = await openStream(runId);
    reader = opened.reader!;
  });
  afterAll(() => reader?.abort());

  it("pause is acknowledged, then var-1 says nothing while var-2 goes on; resume brings output back", async () => {
    await reader.waitForEvents(1, (e) => e.event === "agent_output" && data(e).variation_id === "var-1", 15_000);
    const paused = await control(runId, { action: "pause", variation_id: "var-1" });
    expect(paused.status).toBe(202);
    const { control_id, variation_ids } = (await paused.json()) as { control_id: string; variation_ids: string[] };
    expect(control_id).toMatch(/^ctl-[0-9a-z]{16}$/);
    expect(variation_ids).toEqual(["var-1"]);
    await reader.waitForEvents(1, ackOf(control_id, "paused"), 10_000);

    // A paused agent is alive: it keeps its heartbeat key (short TTL in this file).
    const beat = await redis().get(keys.agentHeartbeat(runId, "var-1"));
    expect(beat).not.toBeNull();
    expect(Date.parse(beat!)).toBeGreaterThan(Date.now() - 5_000);
    const ttl = await redis().ttl(keys.agentHeartbeat(runId, "var-1"));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(2);

    const before = outputsOf(reader, "var-1");
    const othersBefore = outputsOf(reader, "var-2");
    await sleep(1_500);
    expect(outputsOf(reader, "var-1")).toBe(before);
    expect(outputsOf(reader, "var-2")).toBeGreaterThan(othersBefore); // a pause is per variation

    const resumed = await control(runId, { action: "resume", variation_id: "var-1" });
    expect(resumed.status).toBe(202);
    const resumeId = ((await resumed.json()) as { control_id: string }).control_id;
    await reader.waitForEvents(1, ackOf(resumeId, "resumed"), 10_000);
    await eventually(async () => outputsOf(reader, "var-1"), (n) => n > before, 10_000);
  });

  it("unknown variations and bad bodies are refused with a message", async () => {
    const unknown = await control(runId, { action: "pause", variation_id: "var-9" });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { message: string } }).error.message).toMatch(/no variation var-9.*var-1, var-2, var-3/);
    const badAction = await control(runId, { action: "explode" });
    expect(badAction.status).toBe(400);
    expect(((await badAction.json()) as { error: { message: string } }).error.message).toMatch(/action/);
    expect((await control("run-*", { action: "stop" })).status).toBe(400);
    expect((await control("run-000000000000", { action: "stop" })).status).toBe(404);
  });

  it("stop ends var-1 as stopped, its process exits, the others complete and the run completes", async () => {
    // Paused first, so a loaded machine cannot let var-1 finish before the stop reaches it
    // (a variation that completes first simply completes: the stop then has nothing to do).
    const pause = (await (await control(runId, { action: "pause", variation_id: "var-1" })).json()) as { control_id: string };
    await reader.waitForEvents(1, ackOf(pause.control_id, "paused"), 10_000);
    const stopped = await control(runId, { action: "stop", variation_id: "var-1" });
    expect(stopped.status).toBe(202);
    const stopId = ((await stopped.json()) as { control_id: string }).control_id;
    await reader.waitForEvents(1, ackOf(stopId, "stopped"), 10_000);
    await eventually(async () => agentPid(runId, "var-1"), (pid) => pid === null, 10_000);
    // Gone is gone: the runner says goodbye through its inbox as it exits, and the app removes
    // its heartbeat key (at once, not when the key's TTL runs out).
    await eventually(() => redis().exists(keys.agentHeartbeat(runId, "var-1")), (n) => n === 0, 2_000);

    const [complete] = await reader.waitForEvents(1, (e) => e.event === "run_complete", 30_000);
    expect(data(complete!).statuses).toEqual({ "var-1": "stopped", "var-2": "completed", "var-3": "completed" });
    // Nothing of var-1 after its stop acknowledgement.
    const events = reader.events;
    const ackIndex = events.findIndex(ackOf(stopId, "stopped"));
    expect(events.slice(ackIndex + 1).filter((e) => e.event !== "run_complete" && data(e).variation_id === "var-1")).toEqual([]);
  });

  it("control to a finished run or a finished variation is a 409 with a message", async () => {
    const run = await control(runId, { action: "pause" });
    expect(run.status).toBe(409);
    expect(((await run.json()) as { error: { message: string } }).error.message).toMatch(/already completed/);
    const variation = await control(runId, { action: "resume", variation_id: "var-1" });
    expect(variation.status).toBe(409);
    expect(((await variation.json()) as { error: { message: string } }).error.message).toMatch(/var-1.*already been stopped/);
  });
});

describe("whole-run control", () => {
  it("pause without a variation reaches every agent still at work, and stop ends them all", async () => {
    const { runId } = await startRun({ prompt: "Whole-run control", agents: ["demo", "demo"] });
    const { reader } = await openStream(runId);
    await reader!.waitForEvents(1, (e) => e.event === "agent_output", 15_000);
    const paused = await control(runId, { action: "pause" });
    const { control_id, variation_ids } = (await paused.json()) as { control_id: string; variation_ids: string[] };
    expect(variation_ids).toEqual(["var-1", "var-2"]);
    const acks = await reader!.waitForEvents(2, ackOf(control_id, "paused"), 10_000);
    expect(acks.map((e) => data(e).variation_id).sort()).toEqual(["var-1", "var-2"]);

    // A stop while paused: the agents need no resume to stop.
    const stop = (await (await control(runId, { action: "stop" })).json()) as { control_id: string };
    await reader!.waitForEvents(2, ackOf(stop.control_id, "stopped"), 10_000);
    const [complete] = await reader!.waitForEvents(1, (e) => e.event === "run_complete", 10_000);
    expect(data(complete!).statuses).toEqual({ "var-1": "stopped", "var-2": "stopped" });
    reader!.abort();
  });

  it("a control sent before an agent listens is still applied: agents replay the run's control stream", async () => {
    const run = await createRun({ prompt: "Stop me early", agents: ["demo"] });
    // Sent before any agent process exists: only the control stream can tell it.
    const stop = (await (await control(run.runId, { action: "stop" })).json()) as { control_id: string };
    const runId = run.runId;
    launchRun(run, [DEMO], runnerCommand());
    const { reader } = await openStream(runId);
    await reader!.waitForEvents(1, ackOf(stop.control_id, "stopped"), 15_000);
    const [complete] = await reader!.waitForEvents(1, (e) => e.event === "run_complete", 10_000);
    expect(data(complete!).statuses).toEqual({ "var-1": "stopped" });
    reader!.abort();
  });
});

describe("heartbeats", () => {
  it("a variation whose agent never beats is reported unresponsive once the TTL has passed, and alive when it beats", async () => {
    const run = await newRun(1); // no agent process: nothing beats
    const { reader } = await openStream(run.runId);
    const lapsed = await eventually(async () => reader!.connectionEvents.filter((e) => e.event === "agent_liveness"), (list) => list.length > 0, 8_000);
    expect(JSON.parse(lapsed[0]!.data)).toMatchObject({ variation_id: "var-1", alive: false });
    const now = new Date().toISOString();
    await redis().set(keys.agentHeartbeat(run.runId, "var-1"), now, "EX", 2);
    const back = await eventually(async () => reader!.connectionEvents.filter((e) => e.event === "agent_liveness"), (list) => list.length > 1, 8_000);
    expect(JSON.parse(back[1]!.data)).toEqual({ run_id: run.runId, variation_id: "var-1", alive: true, last_seen: now });
    reader!.abort();
  });

  it("an agent killed with SIGKILL is reported as agent_error with its exit code", async () => {
    const { runId } = await startRun({ prompt: "Crash me", agents: ["demo", "demo"] });
    const { reader } = await openStream(runId);
    await reader!.waitForEvents(1, (e) => e.event === "agent_output" && data(e).variation_id === "var-2", 15_000);
    const pid = agentPid(runId, "var-2");
    expect(pid).not.toBeNull();
    process.kill(pid!, "SIGKILL");
    const [error] = await reader!.waitForEvents(1, (e) => e.event === "agent_error" && data(e).variation_id === "var-2", 15_000);
    expect(data(error!).exit_code).toBe(137);
    expect(data(error!).error).toMatch(/killed by SIGKILL/);
    const [complete] = await reader!.waitForEvents(1, (e) => e.event === "run_complete", 30_000);
    expect(data(complete!).statuses).toEqual({ "var-1": "completed", "var-2": "failed" });
    reader!.abort();
  });
});
