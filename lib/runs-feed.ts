/**
 * The runs feed (GET /api/v1/stream): one SSE stream of what changes across all runs, so the
 * runs list stays current without polling.
 *
 * Every viewer registers two handlers with the shared subscriber: one for every run's status
 * channel (a pattern) and one for runs:changed (a plain channel name is a pattern matching
 * itself). The subscriber counts references, so any number of viewers costs two pattern
 * subscriptions in all. The feed is not resumable: a client that reconnects refetches the list
 * (it does so on every stream_open), so events carry no ids.
 */
import "server-only";
import { channels, parseChannel } from "./channels";
import { serverEnv } from "./env";
import { runsFeedEventSchemas, statusMessageSchema, type RunsFeedEvent } from "./events";
import { componentLogger } from "./log";
import { SseConnection } from "./sse-connection";
import { isStreamId } from "./stream-ids";
import { getSubscriber, type MessageHandler, type Unsubscribe } from "./subscriber";
import { parseJson } from "./json";

function send(connection: SseConnection, { event, data }: RunsFeedEvent): void {
  // The feed has its own vocabulary (runsFeedEventSchemas), not the run streams' SseEvent.
  connection.sendFrame(event, data);
}

/**
 * A status as the publish script sends it, {"id": <stream entry id>, "message": <status>},
 * turned into a run_status event. Null for anything else (not JSON, not published by the
 * script, not a status, or a message naming another run than its channel).
 */
export function toRunStatusEvent(runId: string, payload: string): RunsFeedEvent | null {
  const envelope = parseJson(payload) as { id?: unknown; message?: unknown } | null | undefined;
  if (typeof envelope?.id !== "string" || !isStreamId(envelope.id)) return null;
  const message = statusMessageSchema.safeParse(envelope.message);
  if (!message.success || message.data.run_id !== runId) return null;
  const { run_id, variation_id, content, timestamp } = message.data;
  return { event: "run_status", data: { run_id, variation_id, status: content, timestamp } };
}

export function toRunChangedEvent(payload: string): RunsFeedEvent | null {
  const parsed = runsFeedEventSchemas.run_changed.safeParse(parseJson(payload));
  return parsed.success ? { event: "run_changed", data: parsed.data } : null;
}

/** Subscribe every handler or none: a half-made subscription would leak its pattern. */
async function subscribeAll(subscriptions: [string, MessageHandler][], onGap: () => void): Promise<Unsubscribe[]> {
  const subscriber = getSubscriber();
  const results = await Promise.allSettled(subscriptions.map(([pattern, handler]) => subscriber.subscribe(pattern, handler, { onGap })));
  const made = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const failed = results.find((r) => r.status === "rejected");
  if (failed) {
    await Promise.all(made.map((unsubscribe) => unsubscribe()));
    throw failed.reason;
  }
  return made;
}

export async function openRunsFeed(signal: AbortSignal): Promise<Response> {
  const connection = new SseConnection(signal, { backend: "runs_feed" });
  const onStatus: MessageHandler = (channel, payload) => {
    // `run:*:status` also matches `run:<id>:output:status` (a variation may be called
    // "status"): that is output, not ours.
    const parsed = parseChannel(channel);
    if (connection.closed || parsed?.kind !== "status") return;
    const event = toRunStatusEvent(parsed.runId, payload);
    if (event) send(connection, event);
    else componentLogger("runs_feed").warn({ channel }, "skipped a malformed status message");
  };
  const onChanged: MessageHandler = (channel, payload) => {
    if (connection.closed) return;
    const event = toRunChangedEvent(payload);
    if (event) send(connection, event);
    else componentLogger("runs_feed").warn({ channel }, "skipped a malformed message");
  };
  try {
    const unsubscribes = await subscribeAll(
      [
        [channels.allStatuses(), onStatus],
        [channels.runsChanged(), onChanged],
      ],
      // Redis dropped us and changes may be lost: end the stream; the browser reconnects and
      // refetches the list.
      () => connection.close(),
    );
    connection.onClose(() => unsubscribes.forEach((unsubscribe) => void unsubscribe()));
  } catch (error) {
    connection.close();
    throw error;
  }
  // Only once subscribed: a client refetching on stream_open then misses nothing in between.
  startHeartbeat(connection, serverEnv().SSE_HEARTBEAT_MS);
  return connection.response;
}

/**
 * SseConnection.start() announces a run stream ({backend, heartbeat_ms}); the feed's
 * stream_open is {heartbeat_ms}, so it announces and beats itself. An event, not a comment:
 * EventSource hides comments, and the browser needs to hear the stream is alive.
 */
function startHeartbeat(connection: SseConnection, heartbeatMs: number): void {
  if (connection.closed) return;
  send(connection, { event: "stream_open", data: { heartbeat_ms: heartbeatMs } });
  const timer = setInterval(() => send(connection, { event: "heartbeat", data: { timestamp: new Date().toISOString() } }), heartbeatMs);
  connection.onClose(() => clearInterval(timer));
}
