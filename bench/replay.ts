/**
 * Replay benchmark: time for a reconnecting client to receive a 10,000-event backlog from
 * Runwatch (`next start`, GET /stream/redis), against a raw baseline in the same run: a bare
 * node:http server that XRANGEs the same stream and writes SSE frames. Absolute times on shared
 * machines drift; the ratio is the figure to watch. Prints a table and one JSON line.
 */
import http from "node:http";
import { createParser } from "eventsource-parser";
import Redis from "ioredis";
import { keys } from "../lib/channels";
import type { AgentMessage } from "../lib/events";
import { publishMessage } from "../lib/publish";
import { freePort } from "../scripts/lib/system.mjs";
import { machine, median, runBench, startApp, APP_LABEL } from "./support";

const BACKLOG = 10_000;
const ROUNDS = 5;

/** Reads an SSE response to its end; resolves with the number of events and the elapsed ms. */
async function readStream(url: string, headers: Record<string, string>): Promise<{ events: number; ms: number }> {
  const started = performance.now();
  const response = await fetch(url, { headers });
  if (!response.ok || !response.body) throw new Error(`${url} answered ${response.status}`);
  let events = 0;
  const parser = createParser({ onEvent: (e) => void (e.event !== "stream_open" && e.event !== "heartbeat" && e.event !== "agent_liveness" && events++) });
  const decoder = new TextDecoder();
  const reader = response.body.getReader();
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) parser.feed(decoder.decode(chunk.value, { stream: true }));
  return { events, ms: performance.now() - started };
}

/** The baseline: what a hand-rolled replay endpoint would do, and nothing more. */
function startBaseline(redis: Redis, port: number): Promise<http.Server> {
  const server = http.createServer(async (req, res) => {
    const runId = (req.url ?? "").split("/").pop() ?? "";
    res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" });
    let start = "-";
    for (;;) {
      const page = await redis.xrange(keys.runEvents(runId), start, "+", "COUNT", 1_000);
      for (const [id, fields] of page) res.write(`id: ${id}\nevent: agent_output\ndata: ${fields[1]}\n\n`);
      if (page.length < 1_000) break;
      start = `(${page.at(-1)![0]}`;
    }
    res.end();
  });
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve(server)));
}

async function main(): Promise<void> {
  const app = await startApp({ DEMO_AGENT_SPEED: "1000" });
  const basePort = await freePort();
  const redis = new Redis(app.redisUrl);
  try {
    const appUrl = app.url;
    const created = await fetch(`${appUrl}/api/v1/runs`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ prompt: "bench", variations: 1 }) });
    const { run_id: runId } = (await created.json()) as { run_id: string };
    // Let the demo agent finish (a few hundred messages), then add the backlog on another variation.
    while ((await redis.hget(keys.runVariations(runId), "var-1")) !== "completed") await new Promise((r) => setTimeout(r, 100));
    for (let i = 1; i <= BACKLOG; i++) {
      const message: AgentMessage = { type: "output", content: `token ${i} `, run_id: runId, variation_id: "bench", sequence: i, timestamp: new Date().toISOString(), metadata: {} };
      await publishMessage(redis, message);
    }
    const firstId = (await redis.xrange(keys.runEvents(runId), "-", "+", "COUNT", 1))[0]?.[0];
    if (!firstId) throw new Error("the run's stream is empty");
    const baseline = await startBaseline(redis, basePort);

    const runwatch: number[] = [];
    const raw: number[] = [];
    let delivered = 0;
    for (let round = 0; round < ROUNDS; round++) {
      // A reconnecting client: it has seen the first event and asks for everything after it.
      const r = await readStream(`${appUrl}/api/v1/runs/${runId}/stream/redis`, { "Last-Event-ID": firstId });
      delivered = r.events;
      runwatch.push(r.ms);
      raw.push((await readStream(`http://127.0.0.1:${basePort}/replay/${runId}`, {})).ms);
    }
    baseline.close();
    const total = await redis.xlen(keys.runEvents(runId));
    const result = {
      scenario: "replay",
      date: new Date().toISOString(),
      machine: machine(),
      backlog_entries: total - 1,
      events_delivered: delivered,
      runwatch_ms_median: Math.round(median(runwatch)),
      baseline_ms_median: Math.round(median(raw)),
      ratio: Number((median(runwatch) / median(raw)).toFixed(2)),
    };
    console.log(`\nreplay of a ${result.backlog_entries}-entry backlog to a reconnecting client (median of ${ROUNDS})`);
    console.log(`  ${APP_LABEL}   ${result.runwatch_ms_median} ms   (${delivered} events)`);
    console.log(`  raw baseline (node:http + XRANGE)      ${result.baseline_ms_median} ms`);
    console.log(`  Runwatch / baseline                    ${result.ratio}x\n`);
    console.log(JSON.stringify(result));
  } finally {
    redis.disconnect();
    await app.stop();
  }
}

runBench(main);
