/**
 * The Redis backend: one run as an SSE response, from its durable history then live.
 *
 * Every message is in the run's Redis Stream and published with its entry id (lib/publish.ts,
 * atomically). A viewer resumes after any id (Last-Event-ID) with nothing missed and nothing
 * repeated at the seam between history and live:
 *   1. subscribe to the run's channels, buffering what arrives;
 *   2. read the stream after the cursor (XRANGE, in pages), sending each entry;
 *   3. send the buffered messages whose id is past the last one sent; from then on, live.
 * If the cursor was trimmed away, a `reset` event comes first and the whole retained history
 * follows, which the browser shows instead of what it had.
 */
import "server-only";
import type { ServerResponse } from "node:http";
import { channels, keys, parseChannel } from "./channels";
import { serverEnv } from "./env";
import { ApiError } from "./errors";
import { agentMessageSchema, type AgentMessage, type SseEvent, type VariationStatus } from "./events";
import { livenessMonitor, type Liveness } from "./liveness";
import { runLogger } from "./log";
import { recordMessageDelivered } from "./metrics";
import { getRedis } from "./redis";
import { getRun, requireRun, requireRunId, statusesOf } from "./runs";
import { encodeFrame } from "./sse";
import { SseConnection } from "./sse-connection";
import { RunCompletion, toSseEvents } from "./sse-events";
import { entryMessage, StreamFollower, type StreamEntry } from "./stream-follower";
import { compareStreamIds, isStreamId } from "./stream-ids";
import { getSubscriber } from "./subscriber";

/** The resume point a request asks for: the Last-Event-ID header (EventSource sends it) or ?lastEventId=. */
export function lastEventIdOf(request: Request): string | null {
  return request.headers.get("last-event-id") ?? new URL(request.url).searchParams.get("lastEventId");
}

/** The resume point: Last-Event-ID (EventSource sends it) or ?lastEventId=. 400 if malformed. */
export function parseCursor(value: string | null): string | null {
  if (value === null || value === "") return null;
  if (!isStreamId(value)) throw new ApiError("bad_request", `Invalid Last-Event-ID "${value.slice(0, 60)}": expected a stream id such as 1732350000000-0`);
  return value;
}

/** Does the message belong on the channel it came from? Guards against misrouted publishes. */
function matchesChannel(channel: string, message: AgentMessage): boolean {
  const parsed = parseChannel(channel);
  if (!parsed) return false;
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

/**
 * Has the stream dropped entries after `cursor`? MAXLEN trims the oldest entries, so if any
 * were ever removed and the cursor is older than the first one kept, the client missed some
 * (XINFO's max-deleted-entry-id only counts XDEL, not trimming).
 */
async function isTrimmedAfter(runId: string, cursor: string): Promise<boolean> {
  const info = (await getRedis().xinfo("STREAM", keys.runEvents(runId)).catch(() => null)) as unknown[] | null;
  if (!info) return false;
  const field = (name: string) => info[info.indexOf(name) + 1];
  const removed = Number(field("entries-added")) > Number(field("length"));
  const first = field("first-entry");
  const firstId = Array.isArray(first) && typeof first[0] === "string" ? first[0] : null;
  const maxDeleted = field("max-deleted-entry-id");
  if (typeof maxDeleted === "string" && isStreamId(maxDeleted) && compareStreamIds(cursor, maxDeleted) < 0) return true;
  return removed && firstId !== null && compareStreamIds(cursor, firstId) < 0;
}

interface Prepared {
  message: AgentMessage;
  events: SseEvent[];
  /** The frames: as bytes for a live message (shared by every viewer), as text for history. */
  frames: string | Uint8Array;
}

class RunStream extends StreamFollower {
  /** Compared with every message's channel: spelled once. */
  private readonly controlChannel: string;

  constructor(
    private readonly runId: string,
    connection: SseConnection,
    private readonly completion: RunCompletion,
    cursor: string | null,
  ) {
    super(connection, keys.runEvents(runId), cursor, `run ${runId}`);
    this.controlChannel = channels.control(runId);
  }

  /** Everything on the run's pattern but its control channel (that one is for agents). */
  protected accepts(channel: string): boolean {
    return channel !== this.controlChannel;
  }

  /** Liveness of agents still at work; a finished agent stops beating, which is no news. */
  onLiveness = (change: Liveness): void => {
    if (this.connection.closed || !this.isLive || this.completion.isTerminal(change.variationId)) return;
    this.connection.sendEvents([{ event: "agent_liveness", data: { run_id: this.runId, variation_id: change.variationId, alive: change.alive, last_seen: change.lastSeen } }]);
  };

  reset(reason: string): void {
    this.connection.sendEvents([{ event: "reset", data: { run_id: this.runId, reason } }]);
    this.lastSent = null;
  }

  /** Statuses from before the cursor are in no event we send; the variations hash has them. */
  observeEarlier(statuses: Record<string, VariationStatus | undefined>): void {
    for (const [variationId, status] of Object.entries(statuses)) {
      if (status && !this.completion.isTerminal(variationId)) this.completion.observe(variationId, status);
    }
  }

  finishIfComplete(): void {
    if (this.connection.closed || !this.isLive || !this.completion.isComplete()) return;
    this.connection.sendEvents([this.completion.completeEvent(this.runId)]);
    this.connection.close();
  }

  protected handle(entry: StreamEntry): void {
    const prepared = this.prepare(entry);
    if (!prepared) return;
    const { message, events, frames } = prepared;
    this.connection.sendEncoded(frames, events.length);
    // Entries read back from the stream carry no channel: that is history, not live (a live
    // one's latency is observed once, in prepare()).
    if (!entry.channel) recordMessageDelivered("redis", message.timestamp, "replay", events.length);
    if (message.type === "status") {
      this.completion.observe(message.variation_id, message.content, message.timestamp);
      this.finishIfComplete();
    }
  }

  /**
   * Published live but sent from the history (it came while this viewer caught up): still a
   * live message, so its delivery latency is observed, once, like any other (prepare() caches
   * per entry, and the entry is shared with every other viewer of the run here).
   */
  protected override sentFromHistory(entry: StreamEntry): void {
    this.prepare(entry);
  }

  /**
   * Validated, mapped and encoded once per entry: a live message's entry is shared by every
   * viewer of the run in this process (lib/stream-follower.ts), so 1,000 viewers cost one
   * JSON.parse, one schema check and one encoding, not 1,000.
   */
  private prepare(entry: StreamEntry): Prepared | null {
    // Only RunStream fills `derived` on the entries it is handed (a run's stream, not a control stream's).
    const cached = entry.derived as Prepared | null | undefined;
    if (cached !== undefined) return cached;
    const message = this.validate(entry);
    const events = message ? toSseEvents(message) : [];
    const text = events.map(({ event, data }) => encodeFrame({ event, data, id: entry.id })).join("");
    // A replayed entry is this viewer's alone and is joined with its page: text is enough.
    const prepared = message ? { message, events, frames: entry.channel ? Buffer.from(text) : text } : null;
    entry.derived = prepared;
    // Once per live message, not per viewer: every viewer here gets it in this same tick.
    if (prepared && entry.channel) recordMessageDelivered("redis", prepared.message.timestamp, "live");
    return prepared;
  }

  private validate(entry: StreamEntry): AgentMessage | null {
    const parsed = agentMessageSchema.safeParse(entryMessage(entry));
    const ok = parsed.success && parsed.data.run_id === this.runId && (!entry.channel || matchesChannel(entry.channel, parsed.data));
    if (!ok) {
      runLogger(this.runId).warn({ entry_id: entry.id, channel: entry.channel }, "skipped a malformed or misrouted message");
      return null;
    }
    return parsed.data;
  }
}

/** The run's SSE stream as a route handler's Response. */
export async function openRedisRunStream(runIdParam: string, signal: AbortSignal, lastEventId: string | null = null): Promise<Response> {
  return (await startRunStream(runIdParam, signal, lastEventId)).response;
}

/**
 * The same stream written straight to a Node response (lib/node-stream.ts). Errors before the
 * stream opens (bad id or cursor, unknown run, Redis down) are thrown, nothing written yet.
 */
export async function streamRunToNode(runIdParam: string, res: ServerResponse, signal: AbortSignal, lastEventId: string | null): Promise<void> {
  await startRunStream(runIdParam, signal, lastEventId, res);
}

async function startRunStream(runIdParam: string, signal: AbortSignal, lastEventId: string | null, target?: ServerResponse): Promise<SseConnection> {
  const runId = requireRunId(runIdParam);
  const cursor = parseCursor(lastEventId);
  const run = await requireRun(runId);
  const connection = new SseConnection(signal, { backend: "redis", runId }, target);
  connection.start("redis", serverEnv().SSE_HEARTBEAT_MS);
  const stream = new RunStream(runId, connection, new RunCompletion(run.variations.map((v) => v.variation_id)), cursor);
  try {
    const unsubscribe = await getSubscriber().subscribe(channels.runPattern(runId), stream.onPublished, {
      // Redis dropped us and messages may be lost: end the stream; the browser resumes from
      // its last event id and the history fills the hole.
      onGap: () => connection.close(),
    });
    connection.onClose(() => void unsubscribe());
  } catch (error) {
    connection.discard();
    throw error;
  }
  connection.open();
  // The history is sent from inside the response, paced by the viewer: a long one must not be
  // queued whole before the first byte leaves.
  void catchUp(stream, runId, cursor)
    .then(() => {
      // After the history: a liveness event must not come before the status that ended a variation.
      if (connection.closed) return;
      const stop = livenessMonitor().watch(runId, run.variations.map((v) => v.variation_id), run.created_at, stream.onLiveness);
      connection.onClose(stop);
    })
    .catch((error: Error) => {
    runLogger(runId).warn({ err: error }, "replay failed; ending the stream so the viewer resumes");
    connection.close();
  });
  return connection;
}

async function catchUp(stream: RunStream, runId: string, cursor: string | null): Promise<void> {
  if (cursor && (await isTrimmedAfter(runId, cursor))) stream.reset(`events after ${cursor} were trimmed from the run's history (RUN_STREAM_MAXLEN)`);
  await stream.replay();
  // Read the statuses, then the stream once more: a status in the hash is in the stream (one
  // script writes both), so one we still have not seen is from before the cursor.
  const latest = await getRun(runId);
  await stream.replay();
  if (latest) stream.observeEarlier(statusesOf(latest));
  stream.goLive();
  stream.finishIfComplete();
}
