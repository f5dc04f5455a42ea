/**
 * The Redis stream backend: one run's pub/sub traffic as an SSE response.
 *
 * Order of operations matters: subscribe first, then read the variations' statuses, so a
 * status published in between is either in the hash or delivered to us (lib/publish.ts
 * writes both in one MULTI).
 */
import "server-only";
import { channels, parseChannel } from "./channels";
import { serverEnv } from "./env";
import type { AgentMessage } from "./events";
import { getRun, requireRun, statusesOf } from "./runs";
import { SseConnection } from "./sse-connection";
import { parseAgentMessage, RunCompletion, toSseEvents } from "./sse-events";
import { getSubscriber } from "./subscriber";

/** Does the message belong on the channel it came from? Guards against misrouted publishes. */
function matchesChannel(channel: string, message: AgentMessage, runId: string): boolean {
  const parsed = parseChannel(channel);
  if (!parsed || parsed.runId !== runId || message.run_id !== runId) return false;
  switch (parsed.kind) {
    case "output":
      return message.type === "output" && message.variation_id === parsed.variationId;
    case "logs":
      return message.type === "log" && message.variation_id === parsed.variationId;
    case "status":
      return message.type === "status";
    case "metrics":
      return message.type === "metric";
    case "control":
      return false;
  }
}

/** Ends the stream with run_complete once every variation has finished. */
function finishIfComplete(connection: SseConnection, completion: RunCompletion, runId: string): void {
  if (connection.closed || !completion.isComplete()) return;
  connection.sendEvents([completion.completeEvent(runId)]);
  connection.close();
}

export async function openRedisRunStream(runIdParam: string, signal: AbortSignal): Promise<Response> {
  const run = await requireRun(runIdParam);
  const runId = run.run_id;
  const completion = new RunCompletion(run.variations.map((v) => v.variation_id), statusesOf(run));
  const connection = new SseConnection(signal);
  connection.start("redis", serverEnv().SSE_HEARTBEAT_MS);
  finishIfComplete(connection, completion, runId);
  if (connection.closed) return connection.response;

  const onMessage = (channel: string, raw: string) => {
    if (connection.closed) return;
    const parsed = parseAgentMessage(raw);
    if (!parsed.ok) {
      console.warn(`[runwatch] run ${runId}: skipped malformed message on ${channel} (${parsed.reason})`);
      return;
    }
    if (!matchesChannel(channel, parsed.message, runId)) {
      console.warn(`[runwatch] run ${runId}: skipped ${parsed.message.type} message published on ${channel}`);
      return;
    }
    connection.sendEvents(toSseEvents(parsed.message));
    if (parsed.message.type === "status") {
      completion.observe(parsed.message.variation_id, parsed.message.content, parsed.message.timestamp);
      finishIfComplete(connection, completion, runId);
    }
  };

  try {
    const unsubscribe = await getSubscriber().subscribe(channels.runPattern(runId), onMessage, {
      // Redis dropped us and messages may be lost: end the stream; the browser reconnects and
      // starts from the current state instead of waiting on events that will never come.
      onGap: () => connection.close(),
    });
    connection.onClose(() => void unsubscribe());
  } catch (error) {
    connection.close();
    throw error;
  }
  await catchUpWithHash(connection, completion, runId);
  return connection.response;
}

/**
 * Statuses published between our first read and the subscription are only in the hash. If
 * they say the run is over, first let every message Redis already sent us be delivered
 * (drain), and only then count the hash's statuses: counting them earlier would let a live
 * status end the stream while messages before it are still in flight.
 */
async function catchUpWithHash(connection: SseConnection, completion: RunCompletion, runId: string): Promise<void> {
  const latest = await getRun(runId).catch(() => null);
  const fromHash = Object.entries(latest ? statusesOf(latest) : {});
  if (latest?.status === "completed") await getSubscriber().drain().catch(() => undefined);
  for (const [variationId, status] of fromHash) {
    if (status) completion.observe(variationId, status);
  }
  finishIfComplete(connection, completion, runId);
}
