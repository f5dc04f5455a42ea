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
import type { AgentMessage, SseEvent } from "./events";
import { getRun, requireRun, statusesOf } from "./runs";
import { encodeComment, encodeFrame, encodeRetry, HEARTBEAT_COMMENT, SSE_HEADERS } from "./sse";
import { parseAgentMessage, RunCompletion, toSseEvents } from "./sse-events";
import { getSubscriber, type Unsubscribe } from "./subscriber";

/** Browsers wait this long before reconnecting a dropped stream. */
const RETRY_MS = 2_000;

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

export async function openRedisRunStream(runIdParam: string, signal: AbortSignal): Promise<Response> {
  const run = await requireRun(runIdParam);
  const runId = run.run_id;
  const { SSE_HEARTBEAT_MS } = serverEnv();
  const encoder = new TextEncoder();
  const completion = new RunCompletion(
    run.variations.map((v) => v.variation_id),
    statusesOf(run),
  );

  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let closed = false;
  let unsubscribe: Unsubscribe | undefined;
  let heartbeat: ReturnType<typeof setInterval> | undefined;

  const cleanup = () => {
    if (closed) return;
    closed = true;
    if (heartbeat) clearInterval(heartbeat);
    signal.removeEventListener("abort", cleanup);
    void unsubscribe?.();
    try {
      controller.close();
    } catch {
      // already closed or errored by the client going away
    }
  };

  const send = (chunk: string) => {
    if (closed) return;
    try {
      controller.enqueue(encoder.encode(chunk));
    } catch {
      cleanup();
    }
  };

  const sendEvents = (events: SseEvent[]) => {
    for (const { event, data } of events) send(encodeFrame({ event, data }));
  };

  const finishIfComplete = () => {
    if (closed || !completion.isComplete()) return;
    sendEvents([
      { event: "run_complete", data: { run_id: runId, timestamp: new Date().toISOString(), statuses: completion.snapshot() } },
    ]);
    cleanup();
  };

  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
    cancel: cleanup,
  });

  send(encodeRetry(RETRY_MS) + encodeComment("connected"));

  if (completion.isComplete()) {
    finishIfComplete();
    return new Response(body, { headers: SSE_HEADERS });
  }

  const onMessage = (channel: string, raw: string) => {
    if (closed) return;
    const parsed = parseAgentMessage(raw);
    if (!parsed.ok) {
      console.warn(`[runwatch] run ${runId}: skipped malformed message on ${channel} (${parsed.reason})`);
      return;
    }
    if (!matchesChannel(channel, parsed.message, runId)) {
      console.warn(`[runwatch] run ${runId}: skipped ${parsed.message.type} message published on ${channel}`);
      return;
    }
    sendEvents(toSseEvents(parsed.message));
    if (parsed.message.type === "status") {
      completion.observe(parsed.message.variation_id, parsed.message.content);
      finishIfComplete();
    }
  };

  try {
    unsubscribe = await getSubscriber().subscribe(channels.runPattern(runId), onMessage);
  } catch (error) {
    cleanup();
    throw error;
  }
  if (signal.aborted || closed) {
    cleanup();
    return new Response(body, { headers: SSE_HEADERS });
  }
  signal.addEventListener("abort", cleanup);
  heartbeat = setInterval(() => send(encodeComment(HEARTBEAT_COMMENT)), SSE_HEARTBEAT_MS);

  // Catch statuses published between our first read and the subscription.
  const latest = await getRun(runId).catch(() => null);
  if (latest) {
    for (const [variationId, status] of Object.entries(statusesOf(latest))) {
      if (status) completion.observe(variationId, status);
    }
    finishIfComplete();
  }
  return new Response(body, { headers: SSE_HEADERS });
}
