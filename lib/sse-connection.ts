/**
 * One viewer's SSE response: the stream, its heartbeat, and a single guarded clean-up that
 * runs whichever way the connection ends (client gone, server done, write failure). Shared by
 * every stream backend so none of them has to get the teardown right on its own.
 */
import type { ServerResponse } from "node:http";
import type { SseEvent } from "./events";
import { rootLogger, runLogger, type Logger } from "./log";
import { countDelivered, metrics, type SseBackend } from "./metrics";
import type { StreamingBackend } from "./public-env";
import { encodeComment, encodeFrame, encodeRetry, SSE_HEADERS } from "./sse";

/** Browsers wait this long before reconnecting a dropped stream. */
const RETRY_MS = 2_000;
/**
 * A viewer that stops reading must not grow server memory without bound: past this many
 * unsent bytes it is disconnected (its browser reconnects), and nobody else is affected.
 */
export const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
/**
 * What is written during one callback goes out as one chunk when it is done (scheduleFlush); a
 * chunk that reaches this size goes out at once, so a burst of huge events never piles up into
 * one giant string.
 */
export const MAX_CHUNK_BYTES = 1024 * 1024;

/** What a connection is for: the `backend` label of its metrics and the fields of its log lines. */
export interface SseConnectionContext {
  backend: SseBackend;
  runId?: string;
  variationId?: string | null;
  /** Where its open and close lines go (tests capture them); default: the process's logger. */
  logger?: Logger;
}

/** Keep-alive events: they say the stream is up, they are not something delivered. */
const UNCOUNTED_EVENTS = new Set(["stream_open", "heartbeat"]);

/**
 * Connections with something pending, flushed together once the current callback is done: a
 * burst that arrived in one read from Redis (or a replayed page) is one write per viewer, and
 * one microtask serves a message that went to 1,000 viewers. A microtask rather than
 * setImmediate: it coalesces exactly as much (all the messages of one read are dispatched
 * within one callback) without waiting for the rest of the event loop's I/O first.
 *
 * Two arrays used in turn, and a flag on each connection instead of a Set: this runs for every
 * viewer on every message, and a fresh Set per flush (grown entry by entry) was a measurable
 * share of the server's garbage, whose young-generation collections are the latency tail
 * (README, "Benchmark").
 */
let dirty: SseConnection[] = [];
let spare: SseConnection[] = [];
let flushScheduled = false;

function scheduleFlush(connection: SseConnection): void {
  if (connection.flushQueued) return;
  connection.flushQueued = true;
  dirty.push(connection);
  if (flushScheduled) return;
  flushScheduled = true;
  queueMicrotask(flushDirty);
}

function flushDirty(): void {
  flushScheduled = false;
  const connections = dirty;
  dirty = spare;
  let i = 0;
  try {
    for (; i < connections.length; i++) {
      const connection = connections[i]!;
      // Flushed (or closed) meanwhile: its flag was cleared, nothing is pending.
      if (connection.flushQueued) connection.flushNow();
    }
  } finally {
    // Should a flush ever throw, the rest of the list is queued again rather than left flagged
    // in a list nobody reads (their next writes would then never schedule a flush).
    for (i++; i < connections.length; i++) {
      const connection = connections[i]!;
      if (!connection.flushQueued) continue;
      connection.flushQueued = false;
      scheduleFlush(connection);
    }
    // Emptied, not replaced: the next flush reuses its storage (a flush during this loop
    // scheduled onto `dirty`, which is the other array).
    connections.length = 0;
    spare = connections;
  }
}

/** A frame as text, or already encoded (the same bytes shared by every viewer of a message). */
type Chunk = string | Uint8Array;

const chunkBytes = (chunk: Chunk): number => (typeof chunk === "string" ? Buffer.byteLength(chunk) : chunk.byteLength);

const encoder = new TextEncoder();

/** What may be queued for a viewer before a replay waits for it to read (and the unit of "room"). */
const HIGH_WATER_BYTES = 64 * 1024;

/**
 * Where a connection's bytes go. A route handler's connection writes to a web `ReadableStream`,
 * which Next pipes to the socket; lib/node-stream.ts hands it the Node response itself, which
 * skips that pipe (per chunk, a web-stream read and write and their promises: most of what a
 * viewer costs under `next start`, README "Benchmark").
 */
interface Transport {
  /** Throws when the viewer is gone. */
  write(chunk: Uint8Array): void;
  /** Bytes that may still be queued before the viewer has to read some. */
  room(): number;
  end(): void;
  abort(error: Error): void;
}

export class SseConnection {
  private readonly webResponse: Response | null = null;
  private readonly transport: Transport;
  private readonly teardown: (() => void)[] = [];
  private closedFlag = false;
  /**
   * A connection on a Node response writes nothing, not even its status line, until the stream
   * is known to open (`open()`): until then the caller may still answer with an error instead.
   */
  private opened: boolean;
  private readonly backend: SseBackend;
  private readonly log: Logger;
  private readonly openedAt = performance.now();
  /** Events written so far (keep-alives aside), for the close line. */
  private eventsSent = 0;
  /**
   * What this callback has written so far: one chunk for the viewer when it is done. Usually a
   * single message's frames, so the first one is kept on its own and an array only holds more.
   */
  private pendingFirst: Chunk | null = null;
  private pendingMore: Chunk[] | null = null;
  private pendingBytes = 0;
  /** In the shared flush's list (scheduleFlush); cleared once flushed. */
  flushQueued = false;
  /** Events in the pending chunk; counted once it is queued for the viewer. */
  private pendingEvents = 0;
  private closeReason: "ended" | "viewer_left" | "too_slow" = "ended";

  /**
   * `target`: write to this Node response (lib/node-stream.ts); without it the connection's
   * `response` is a web Response for a route handler to return. `signal` says the viewer left.
   */
  constructor(
    private readonly signal: AbortSignal,
    // Every stream in the app says what it is; without a context (unit tests) it counts as a run viewer.
    context: SseConnectionContext = { backend: "redis" },
    target?: ServerResponse,
  ) {
    this.backend = context.backend;
    const parent = context.logger ?? rootLogger();
    this.log = (context.runId ? runLogger(context.runId, context.variationId, parent) : parent).child({ backend: context.backend });
    metrics().connectionsOpen.inc({ backend: this.backend });
    this.log.info("sse connection opened");
    this.opened = !target;
    if (target) this.transport = this.nodeTransport(target);
    else {
      let controller!: ReadableStreamDefaultController<Uint8Array>;
      const body = new ReadableStream<Uint8Array>({
        start: (c) => {
          controller = c;
        },
        // The reader took something: whoever waits for room may write again.
        pull: () => this.wakeWriters(),
        cancel: () => this.viewerLeft(),
      }, { highWaterMark: HIGH_WATER_BYTES, size: (chunk) => chunk.byteLength });
      this.webResponse = new Response(body, { headers: SSE_HEADERS });
      this.transport = {
        write: (chunk) => controller.enqueue(chunk),
        room: () => controller.desiredSize ?? 0,
        end: () => controller.close(),
        abort: (error) => controller.error(error),
      };
    }
    signal.addEventListener("abort", this.onAbort);
    // The viewer may have left while the route was still looking the run up: "abort" has
    // fired already, and nothing else would stop the heartbeat start() sets up.
    if (signal.aborted) this.viewerLeft();
    this.write(encodeRetry(RETRY_MS) + encodeComment("connected"));
  }

  /** The response a route handler returns (not for a connection writing to a Node response). */
  get response(): Response {
    if (!this.webResponse) throw new Error("this SSE connection writes to a Node response");
    return this.webResponse;
  }

  private nodeTransport(res: ServerResponse): Transport {
    // The socket took what was queued: whoever waits for room may write again.
    res.on("drain", () => this.wakeWriters());
    return {
      write: (chunk) => {
        if (res.destroyed || res.writableEnded) throw new Error("the viewer has gone");
        // The status line goes with the first bytes: until then an error may still be answered instead.
        if (!res.headersSent) res.writeHead(200, SSE_HEADERS);
        res.write(chunk);
      },
      room: () => HIGH_WATER_BYTES - res.writableLength,
      end: () => res.end(),
      // Cut without an error: an error here would be emitted on the response, with nobody to hear it.
      abort: () => res.destroy(),
    };
  }

  /**
   * Read for every viewer on every message, so a field, not `signal.aborted` (a checked native
   * getter): the signal's "abort" listener closes the connection the moment it fires.
   */
  get closed(): boolean {
    return this.closedFlag;
  }

  /** Run `fn` when the connection ends (or at once if it already has). */
  onClose(fn: () => void): void {
    if (this.closedFlag) fn();
    else this.teardown.push(fn);
  }

  /**
   * Say which backend this is and start the heartbeat. The heartbeat is an event, not a
   * comment: EventSource hides comments, and the browser needs to hear it to tell a quiet
   * stream from a dead one.
   */
  start(backend: StreamingBackend, heartbeatMs: number): void {
    if (this.closedFlag) return;
    this.sendEvents([{ event: "stream_open", data: { backend, heartbeat_ms: heartbeatMs } }]);
    const timer = setInterval(
      () => this.sendEvents([{ event: "heartbeat", data: { timestamp: new Date().toISOString() } }]),
      heartbeatMs,
    );
    this.onClose(() => clearInterval(timer));
  }

  /** `id`: the stream entry the events come from; the browser resumes after it. */
  sendEvents(events: readonly SseEvent[], id?: string): void {
    for (const { event } of events) if (!UNCOUNTED_EVENTS.has(event)) this.pendingEvents++;
    this.write(events.map(({ event, data }) => encodeFrame({ event, data, id })).join(""));
  }

  /**
   * Frames already encoded, as text or bytes (the same bytes for every viewer of a message,
   * encoded once); `events` of them count as delivered.
   */
  sendEncoded(frames: Chunk, events: number): void {
    this.pendingEvents += events;
    this.write(frames);
  }

  /** One event of another stream's vocabulary (the agents' control stream). */
  sendFrame(event: string, data: unknown, id?: string): void {
    if (!UNCOUNTED_EVENTS.has(event)) this.pendingEvents++;
    this.write(encodeFrame({ event, data, id }));
  }

  /**
   * End the stream. Normally queued and pending events are still delivered first; with `error`
   * both are dropped and the response aborted (a viewer too slow to keep up gets nothing more).
   */
  close(error?: Error): void {
    this.finish(error ? "abort" : "end", error);
  }

  /**
   * The stream never opened after all (the caller answers with an error instead): clean up and
   * write nothing, so a Node response can still carry that error.
   */
  discard(): void {
    this.finish("nothing");
  }

  private finish(how: "end" | "abort" | "nothing", error?: Error): void {
    if (this.closedFlag) return;
    if (how === "end") this.enqueuePending();
    else this.dropPending();
    this.closedFlag = true;
    this.signal.removeEventListener("abort", this.onAbort);
    metrics().connectionsOpen.dec({ backend: this.backend });
    this.log.info(
      { duration_ms: Math.round(performance.now() - this.openedAt), events_sent: this.eventsSent, reason: this.closeReason },
      "sse connection closed",
    );
    this.wakeWriters();
    for (const fn of this.teardown.splice(0)) {
      try {
        fn();
      } catch (error) {
        this.log.error({ err: error }, "sse teardown step failed");
      }
    }
    try {
      if (how === "abort") this.transport.abort(error ?? new Error("aborted"));
      else if (how === "end") this.transport.end();
    } catch {
      // already closed or errored because the client went away
    }
  }

  private readonly onAbort = (): void => this.viewerLeft();

  private viewerLeft(): void {
    if (!this.closedFlag) this.closeReason = "viewer_left";
    this.close();
  }

  private roomWaiters: (() => void)[] = [];

  private wakeWriters(): void {
    if (this.roomWaiters.length === 0) return;
    for (const wake of this.roomWaiters.splice(0)) wake();
  }

  /**
   * Resolves when the viewer has read enough that more may be queued (or the connection is
   * closed). A replay of a long history waits on it between pages, so it is paced by the
   * viewer instead of queueing the whole history at once (which the slow-viewer limit would cut).
   */
  async waitForRoom(): Promise<void> {
    while (!this.closed && this.transport.room() - this.pendingBytes <= 0) {
      await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
    }
  }

  /**
   * Gather `chunk` into the pending chunk, enqueued once the current callback is done: a burst of
   * 1,000 events costs one socket write, not 1,000. Pending bytes count towards the slow-viewer
   * limit like queued ones.
   */
  private write(chunk: Chunk): void {
    if (this.closedFlag) {
      this.pendingEvents = 0;
      return;
    }
    if (this.pendingFirst === null) this.pendingFirst = chunk;
    else (this.pendingMore ??= []).push(chunk);
    this.pendingBytes += chunkBytes(chunk);
    if (this.pendingBytes - this.transport.room() > MAX_BUFFERED_BYTES) {
      this.log.warn({ max_buffered_bytes: MAX_BUFFERED_BYTES }, "sse viewer is not reading: disconnecting it");
      metrics().slowViewersDropped.inc({ backend: this.backend });
      this.closeReason = "too_slow";
      this.close(new Error("viewer too slow: disconnected"));
      return;
    }
    if (this.pendingBytes >= MAX_CHUNK_BYTES) this.flushNow();
    else scheduleFlush(this);
  }

  /**
   * The stream opens: what was written so far goes out (with, on a Node response, its status
   * line). A route handler's connection is open from the start: nothing reads its body until
   * the handler returns it.
   */
  open(): void {
    if (this.opened || this.closedFlag) return;
    this.opened = true;
    if (this.pendingFirst !== null) scheduleFlush(this);
  }

  /** Hand the pending chunk to the viewer now (the shared flush calls this). */
  flushNow(): void {
    if (!this.enqueuePending()) this.close();
    this.wakeWriters();
  }

  /** Queue the pending chunk for the viewer; false if the stream no longer takes it. */
  private enqueuePending(): boolean {
    this.cancelScheduledFlush();
    if (this.pendingFirst === null || !this.opened) return true;
    const chunk = this.joinPending(this.pendingFirst, this.pendingMore);
    const events = this.pendingEvents;
    this.pendingFirst = null;
    this.pendingMore = null;
    this.pendingBytes = 0;
    this.pendingEvents = 0;
    try {
      this.transport.write(chunk);
    } catch {
      return false;
    }
    if (events > 0) {
      this.eventsSent += events;
      countDelivered(this.backend, events);
    }
    return true;
  }

  /** One message's shared bytes go out as they are; anything else is joined and encoded once. */
  private joinPending(first: Chunk, more: Chunk[] | null): Uint8Array {
    if (more === null) return typeof first === "string" ? encoder.encode(first) : first;
    const chunks = [first, ...more];
    if (chunks.every((chunk) => typeof chunk === "string")) return encoder.encode(chunks.join(""));
    return Buffer.concat(chunks.map((chunk) => (typeof chunk === "string" ? Buffer.from(chunk) : chunk)));
  }

  private dropPending(): void {
    this.cancelScheduledFlush();
    this.pendingFirst = null;
    this.pendingMore = null;
    this.pendingBytes = 0;
    this.pendingEvents = 0;
  }

  /** The shared flush skips it (it stays in the list until then, which costs nothing). */
  private cancelScheduledFlush(): void {
    this.flushQueued = false;
  }
}
