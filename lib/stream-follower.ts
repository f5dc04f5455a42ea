/**
 * Following one of a run's Redis Streams over SSE, from a cursor, with nothing missed and
 * nothing repeated at the seam between history and live:
 *   1. the caller subscribes to the run's channels and hands each message to `onPublished`,
 *      which buffers it while the history is read;
 *   2. `replay()` reads the stream after the cursor (XRANGE, in pages paced by the reader);
 *   3. `goLive()` sends the buffered messages whose id is past the last one sent; from then
 *      on messages are sent as they come.
 * Viewers follow a run's events (lib/run-stream.ts), agents its control messages
 * (lib/control.ts); the publish scripts put every message in the stream and publish it as
 * {"id": <entry id>, "message": ...} in one atomic step, which is what makes this exact.
 */
import "server-only";
import { parseChannel } from "./channels";
import { rootLogger, runLogger } from "./log";
import { getRedis } from "./redis";
import { MAX_BUFFERED_BYTES, type SseConnection } from "./sse-connection";
import { compareStreamIds, isStreamId } from "./stream-ids";
import { parseJson } from "./json";

const PAGE_SIZE = 1_000;

export interface StreamEntry {
  id: string;
  /** The message as stored, for an entry read from the stream; parsed when it is handled. */
  raw?: string;
  /** The message already parsed, for a published one (its envelope was parsed to find its id). */
  value?: unknown;
  /** Where it was published; absent for entries read from the stream. */
  channel?: string;
  /** About its size in bytes, for the limit on what a catching-up viewer may buffer. */
  size: number;
  /**
   * What a follower derived from it (validated, mapped, encoded), kept on the entry so that
   * every viewer of a live message shares one derivation. A field rather than a WeakMap keyed
   * by the entry: V8's young-generation GC keeps a WeakMap's young entries alive, so every
   * message's derivation was copied and promoted before a full GC freed it (README, "Benchmark").
   */
  derived?: unknown;
}

/** The entry's message as parsed JSON (undefined if it is not JSON). */
export function entryMessage(entry: StreamEntry): unknown {
  return entry.value !== undefined ? entry.value : parseJson(entry.raw ?? "");
}

/**
 * A published payload: {"id", "message"}. Null for anything else (not published by a script).
 * The message is kept parsed: turning it back into text only to parse it again when it is
 * handled cost a stringify and a parse per live message.
 */
export function parseEnvelope(channel: string, payload: string): StreamEntry | null {
  const parsed = parseJson(payload) as { id?: unknown; message?: unknown } | null | undefined;
  if (typeof parsed?.id !== "string" || !isStreamId(parsed.id) || parsed.message === undefined) return null;
  return { id: parsed.id, value: parsed.message, channel, size: payload.length };
}

/**
 * The subscriber hands one published message to every viewer of the run in turn: parse it once
 * for all of them. The entry is shared: nothing changes it but its `derived` slot.
 */
let lastPublished: { channel: string; payload: string; entry: StreamEntry | null } | null = null;

function parseEnvelopeShared(channel: string, payload: string): StreamEntry | null {
  // The same string object for every viewer: comparing it is a pointer check.
  if (lastPublished && lastPublished.payload === payload && lastPublished.channel === channel) return lastPublished.entry;
  const entry = parseEnvelope(channel, payload);
  lastPublished = { channel, payload, entry };
  return entry;
}

export abstract class StreamFollower {
  protected lastSent: string | null;
  private live = false;
  private buffer: StreamEntry[] = [];
  private bufferedBytes = 0;

  constructor(
    protected readonly connection: SseConnection,
    private readonly streamKey: string,
    cursor: string | null,
    /** For log lines. */
    protected readonly label: string,
  ) {
    this.lastSent = cursor;
  }

  /** Is a message on this channel one of ours? Others on the same pattern are ignored. */
  protected abstract accepts(channel: string): boolean;
  /** Send one entry (already known to be new). */
  protected abstract handle(entry: StreamEntry): void;

  /**
   * A live entry that the history had already sent: it was published while this viewer was
   * catching up, and the read of the stream got there first. Nothing is sent again.
   */
  protected sentFromHistory?(entry: StreamEntry): void;

  onPublished = (channel: string, payload: string): void => {
    if (this.connection.closed || !this.accepts(channel)) return;
    const entry = parseEnvelopeShared(channel, payload);
    if (!entry) {
      const runId = parseChannel(channel)?.runId;
      (runId ? runLogger(runId) : rootLogger()).warn({ stream: this.label, channel }, "skipped a message not published by a publish script");
      return;
    }
    if (this.live) return this.deliver(entry);
    this.buffer.push(entry);
    this.bufferedBytes += entry.size;
    // A viewer that stops reading mid-replay holds the replay, and live messages would pile up
    // here without bound: past the same limit as a connection's queue, it is cut off like any
    // slow viewer (it resumes from its last event id; the history has everything).
    if (this.bufferedBytes > MAX_BUFFERED_BYTES) {
      this.buffer = [];
      this.connection.close(new Error("viewer too slow: fell behind while catching up on history"));
    }
  };

  /** Send the stream's entries after the last one sent, page by page, to its current end. */
  async replay(): Promise<void> {
    for (;;) {
      const start = this.lastSent ? `(${this.lastSent}` : "-";
      const page = await getRedis().xrange(this.streamKey, start, "+", "COUNT", PAGE_SIZE);
      // One socket write for the page: the connection gathers whatever a tick writes.
      for (const [id, fields] of page) {
        const raw = fields[fields.indexOf("m") + 1] ?? "";
        this.deliver({ id, raw, size: raw.length });
      }
      if (page.length < PAGE_SIZE || this.connection.closed) return;
      await this.connection.waitForRoom();
    }
  }

  goLive(): void {
    this.live = true;
    this.bufferedBytes = 0;
    for (const entry of this.buffer.splice(0)) this.deliver(entry);
  }

  protected get isLive(): boolean {
    return this.live;
  }

  private deliver(entry: StreamEntry): void {
    if (this.connection.closed) return;
    if (this.lastSent && compareStreamIds(entry.id, this.lastSent) <= 0) {
      if (entry.channel) this.sentFromHistory?.(entry);
      return; // sent already
    }
    this.lastSent = entry.id;
    this.handle(entry);
  }
}
