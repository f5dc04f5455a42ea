/**
 * The log backend (GET /api/v1/runs/<id>/stream) with the local orchestrator's log files, and
 * its equivalence with the Redis backend: one recorded agent run, fed through both.
 */
import fs from "node:fs";
import path from "node:path";
import type { EventSourceMessage } from "eventsource-parser";
import { describe, expect, it } from "vitest";
import { appendStdoutLine, logPaths, writeRunManifest } from "@/lib/agent-logs";
import { agentMessageSchema } from "@/lib/events";
import { startAgentProcess } from "@/lib/orchestrator";
import { publishMessage } from "@/lib/publish";
import { newRun, openStream, setupTestRedis } from "../support/helpers";

const redisClient = setupTestRedis();

const RECORDED = fs
  .readFileSync(path.join(__dirname, "..", "fixtures", "recorded-demo-run.jsonl"), "utf8")
  .split("\n")
  .filter(Boolean);

/** The recorded run (3 demo variations) re-addressed to `runId`. */
function recordedLines(runId: string): string[] {
  return RECORDED.map((line) => line.replaceAll('"run_id":"run-000000000000"', `"run_id":"${runId}"`));
}

const variationOf = (line: string) => (JSON.parse(line) as { variation_id: string }).variation_id;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What the viewer sees, ids aside, per variation (backends interleave variations differently). */
function byVariation(events: EventSourceMessage[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const e of events) {
    const key = (JSON.parse(e.data) as { variation_id?: string }).variation_id ?? "(run)";
    (out[key] ??= []).push(`${e.event} ${e.data}`);
  }
  return out;
}

describe("log backend", () => {
  it("serves the same events and payloads as the Redis backend for one recorded run", async () => {
    const run = await newRun(3);
    const lines = recordedLines(run.runId);
    const viaRedis = (await openStream(run.runId, "redis")).reader!;
    const viaLogs = (await openStream(run.runId, "kubectl")).reader!;
    // What an agent does for every message: print the line, then publish it.
    for (const [i, line] of lines.entries()) {
      appendStdoutLine(run.runId, variationOf(line), line);
      await publishMessage(redisClient(), agentMessageSchema.parse(JSON.parse(line)));
      if (i % 50 === 0) await sleep(5);
    }
    await Promise.all([viaRedis.ended, viaLogs.ended]);

    expect(viaLogs.events.length).toBeGreaterThan(lines.length); // statuses add agent_complete
    expect(viaLogs.events.at(-1)?.event).toBe("run_complete");
    expect(viaRedis.events.at(-1)?.event).toBe("run_complete");
    expect(byVariation(viaLogs.events)).toEqual(byVariation(viaRedis.events));
    expect(viaLogs.connectionEvents[0]).toMatchObject({ event: "stream_open", data: expect.stringContaining('"backend":"kubectl"') });
  });

  it("follows a log from its first line, then lines as they are written, and shows non-JSON lines as text", async () => {
    const run = await newRun(1);
    const lines = recordedLines(run.runId).filter((line) => variationOf(line) === "var-1");
    const half = Math.floor(lines.length / 2);
    for (const line of lines.slice(0, half)) appendStdoutLine(run.runId, "var-1", line);

    const { reader } = await openStream(run.runId, "kubectl");
    await reader!.waitForEvents(half);
    appendStdoutLine(run.runId, "var-1", "Loading model weights (plain text, not JSON)");
    // A line written in two pieces must arrive whole.
    fs.appendFileSync(logPaths(run.runId, "var-1").stdout, "half a li");
    await sleep(50);
    fs.appendFileSync(logPaths(run.runId, "var-1").stdout, "ne\n");
    for (const line of lines.slice(half)) appendStdoutLine(run.runId, "var-1", line);
    await reader!.ended;

    const texts = reader!.events.filter((e) => e.event === "agent_output" && JSON.parse(e.data).fragment);
    expect(texts.map((e) => JSON.parse(e.data))).toEqual([
      expect.objectContaining({ content: "Loading model weights (plain text, not JSON)\n", fragment: 1, sequence: half }),
      expect.objectContaining({ content: "half a line\n", fragment: 2, sequence: half }),
    ]);
    const sequences = reader!.events.map((e) => JSON.parse(e.data).sequence).filter((s): s is number => typeof s === "number");
    expect(sequences).toEqual([...sequences].sort((a, b) => a - b)); // in order
    expect(reader!.events.at(-1)?.event).toBe("run_complete");
  });

  it("reads a finished run's logs to the end and completes at once", async () => {
    const run = await newRun(3);
    for (const line of recordedLines(run.runId)) {
      appendStdoutLine(run.runId, variationOf(line), line);
      await publishMessage(redisClient(), agentMessageSchema.parse(JSON.parse(line)));
    }
    const { reader } = await openStream(run.runId, "kubectl");
    await reader!.ended;
    const outputs = reader!.events.filter((e) => e.event === "agent_output");
    expect(outputs.length).toBe(RECORDED.filter((l) => l.includes('"type":"output"')).length);
    expect(JSON.parse(reader!.events.at(-1)!.data).statuses).toEqual({ "var-1": "completed", "var-2": "completed", "var-3": "completed" });
  });

  it("says so when a finished variation has no log on this server, instead of waiting forever", async () => {
    const run = await newRun(1);
    await publishMessage(redisClient(), {
      type: "status", content: "completed", run_id: run.runId, variation_id: "var-1", sequence: 1, timestamp: new Date().toISOString(), metadata: {},
    });
    const { reader } = await openStream(run.runId, "kubectl");
    await reader!.ended;
    const error = reader!.events.find((e) => e.event === "agent_error");
    expect(JSON.parse(error!.data).error).toMatch(/Cannot follow this variation's log: there is no log at .*var-1\.jsonl/);
    expect(reader!.events.at(-1)?.event).toBe("run_complete");
  });

  it("shows an agent that crashed as an agent_error with its exit code (the orchestrator writes it to the log)", async () => {
    const run = await newRun(1);
    writeRunManifest(run.runId, run.variationIds);
    const { reader } = await openStream(run.runId, "kubectl");
    await startAgentProcess({
      runId: run.runId,
      variationId: "var-1",
      command: process.execPath,
      args: ["-e", "console.log('warming up'); process.stderr.write('out of memory\\n'); process.exit(137)"],
      env: {},
    });
    await reader!.ended;
    const [text, error] = [reader!.events.find((e) => e.event === "agent_output"), reader!.events.find((e) => e.event === "agent_error")];
    expect(JSON.parse(text!.data)).toMatchObject({ content: "warming up\n", sequence: 0, fragment: 1 });
    expect(JSON.parse(error!.data)).toMatchObject({ exit_code: 137, error: expect.stringMatching(/exited with code 137[\s\S]*out of memory/) });
  });

  it("answers 404 for an unknown run and 400 for a malformed id, before opening a stream", async () => {
    expect((await openStream("run-zzzzzzzzzzzz", "kubectl")).response.status).toBe(404);
    const bad = await openStream("run-*", "kubectl");
    expect(bad.response.status).toBe(400);
    expect(bad.response.headers.get("content-type")).toMatch(/application\/json/);
  });
});
