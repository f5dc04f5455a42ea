/**
 * Control latency: from POST /api/v1/runs/<id>/control to the agent's acknowledgement arriving
 * at a viewer's SSE stream, against a raw baseline measured in the same run: one PUBLISH to a
 * bare ioredis "agent" that answers with a PUBLISH (the least any Redis-based control can
 * cost). Runwatch's path: HTTP, the control script (XADD + PUBLISH), the real agent runner
 * (reads the control stream, acknowledges through the publish script), the server's pattern
 * subscriber, SSE. Prints a table and one JSON line.
 */
import { createParser } from "eventsource-parser";
import Redis from "ioredis";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { keys } from "../lib/channels";
import { startRedis } from "../scripts/lib/redis.mjs";
import { machine, percentile, runBench, startApp } from "./support";

const SAMPLES = 200;

async function runwatchLatencies(): Promise<number[]> {
  // A slow demo agent, so it is still at work for every sample.
  const app = await startApp({ DEMO_AGENT_SPEED: "0.05" });
  const viewer = new AbortController();
  try {
    const created = await fetch(`${app.url}/api/v1/runs`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ prompt: "bench control", variations: 1 }) });
    const { run_id: runId } = (await created.json()) as { run_id: string };
    const acks = new Map<string, () => void>();
    const seen = new Set<string>();
    const response = await fetch(`${app.url}/api/v1/runs/${runId}/stream/redis`, { signal: viewer.signal });
    const parser = createParser({
      onEvent: (e) => {
        if (e.event !== "agent_status") return;
        const id = (JSON.parse(e.data) as { metadata?: { control_id?: string } }).metadata?.control_id;
        if (!id) return;
        seen.add(id);
        acks.get(id)?.();
      },
    });
    void (async () => {
      const reader = response.body!.getReader();
      const decoder = new TextDecoder();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        parser.feed(decoder.decode(value, { stream: true }));
      }
    })().catch(() => {});
    // Wait for the agent to be up (its "starting" status) before timing anything.
    const redis = new Redis(app.redisUrl);
    while (!(await redis.get(keys.agentHeartbeat(runId, "var-1")))) await new Promise((r) => setTimeout(r, 50));
    redis.disconnect();

    const latencies: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const action = i % 2 === 0 ? "pause" : "resume";
      const started = performance.now();
      const answer = await fetch(`${app.url}/api/v1/runs/${runId}/control`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ action, variation_id: "var-1" }) });
      if (answer.status !== 202) throw new Error(`control answered ${answer.status}: ${await answer.text()}`);
      const { control_id } = (await answer.json()) as { control_id: string };
      if (!seen.has(control_id)) await new Promise<void>((resolve) => acks.set(control_id, resolve));
      latencies.push(performance.now() - started);
      acks.delete(control_id);
    }
    await fetch(`${app.url}/api/v1/runs/${runId}/control`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ action: "stop" }) });
    await new Promise((r) => setTimeout(r, 500));
    return latencies;
  } finally {
    viewer.abort();
    await app.stop();
  }
}

/** The same round trip by hand: PUBLISH a command, a subscriber answers with a PUBLISH. */
async function baselineLatencies(redisUrl: string): Promise<number[]> {
  const agentIn = new Redis(redisUrl);
  const agentOut = new Redis(redisUrl);
  const clientIn = new Redis(redisUrl);
  const clientOut = new Redis(redisUrl);
  try {
    await agentIn.subscribe("bench:control");
    agentIn.on("message", (_channel: string, id: string) => void agentOut.publish("bench:ack", id));
    const waiting = new Map<string, () => void>();
    await clientIn.subscribe("bench:ack");
    clientIn.on("message", (_channel: string, id: string) => waiting.get(id)?.());
    const latencies: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const id = String(i);
      const started = performance.now();
      const acked = new Promise<void>((resolve) => waiting.set(id, resolve));
      await clientOut.publish("bench:control", id);
      await acked;
      latencies.push(performance.now() - started);
    }
    return latencies;
  } finally {
    for (const c of [agentIn, agentOut, clientIn, clientOut]) c.disconnect();
  }
}

async function main(): Promise<void> {
  const runwatch = await runwatchLatencies();
  // The baseline gets a redis-server of its own, like the app had.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "runwatch-bench-raw-"));
  const redisServer = await startRedis({ dir, persistent: false });
  let raw: number[];
  try {
    raw = await baselineLatencies(redisServer.url);
  } finally {
    await redisServer.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const fmt = (n: number) => Number(n.toFixed(2));
  const result = {
    scenario: "control",
    date: new Date().toISOString(),
    machine: machine(),
    samples: SAMPLES,
    runwatch_p50_ms: fmt(percentile(runwatch, 50)),
    runwatch_p99_ms: fmt(percentile(runwatch, 99)),
    baseline_p50_ms: fmt(percentile(raw, 50)),
    baseline_p99_ms: fmt(percentile(raw, 99)),
    ratio_p50: fmt(percentile(runwatch, 50) / percentile(raw, 50)),
    ratio_p99: fmt(percentile(runwatch, 99) / percentile(raw, 99)),
  };
  console.log(`\ncontrol: POST → agent acknowledgement at a viewer (${SAMPLES} pause/resume)`);
  console.log(`  Runwatch (HTTP, control stream, agent runner, SSE)   p50 ${result.runwatch_p50_ms} ms   p99 ${result.runwatch_p99_ms} ms`);
  console.log(`  raw baseline (PUBLISH → subscriber → PUBLISH)        p50 ${result.baseline_p50_ms} ms   p99 ${result.baseline_p99_ms} ms`);
  console.log(`  Runwatch / baseline                                  p50 ${result.ratio_p50}x   p99 ${result.ratio_p99}x\n`);
  console.log(JSON.stringify(result));
}

runBench(main);
