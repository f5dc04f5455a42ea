/**
 * The browser end of a run stream, without React: an EventSource that reconnects on its own
 * schedule, notices silence, validates what it receives and hands it over in batches.
 *
 * EventSource's built-in retry is not used: it retries forever at a fixed pace, cannot tell
 * a 404 from an outage, and never notices a half-open connection. On any error we close it and
 * open a new one after a backoff (lib/backoff.ts), asking from the last event id we saw.
 */
import { retryDelay, type RetryPolicy } from "./backoff";
import { SSE_EVENT_NAMES, sseEventSchemas, type SseEvent } from "./events";
import { SilenceDetector, silenceTimeout } from "./silence";
import { parseJson } from "./json";

export type ConnectionStatus = "connecting" | "live" | "reconnecting" | "lost" | "closed";

export interface ConnectionState {
  status: ConnectionStatus;
  /** While reconnecting: this is attempt `attempt` of `attempts`. */
  attempt?: number;
  attempts?: number;
  /** Why the stream is not live (the server's own words when it gave a reason). */
  error: string | null;
}

export interface StreamClientCallbacks {
  /** Validated events, at most one batch per FLUSH_INTERVAL_MS. */
  events(batch: SseEvent[]): void;
  connection(state: ConnectionState): void;
  /** An event arrived that the shared schemas reject. */
  rejected(): void;
}

const FLUSH_INTERVAL_MS = 16;
/** Until the server says otherwise in stream_open. */
const DEFAULT_HEARTBEAT_MS = 30_000;

interface StreamFailure {
  message: string;
  /** Worth trying again (the server or Redis is having a moment), as opposed to a 4xx. */
  retry: boolean;
}

/**
 * EventSource does not say why a stream failed. Ask once more to learn the server's reason and
 * whether a retry can help.
 */
async function describeStreamFailure(url: string): Promise<StreamFailure> {
  try {
    const response = await fetch(url, { headers: { Accept: "text/event-stream" }, signal: AbortSignal.timeout(10_000) });
    if ((response.headers.get("content-type") ?? "").startsWith("text/event-stream")) {
      await response.body?.cancel();
      return { message: "The stream closed unexpectedly.", retry: true };
    }
    const body = (await response.json().catch(() => null)) as { error?: { message?: string } } | null;
    return {
      message: `The stream could not be opened (${response.status}): ${body?.error?.message ?? response.statusText}`,
      retry: response.status >= 500 || response.status === 429,
    };
  } catch (error) {
    return { message: `The server cannot be reached: ${(error as Error).message}`, retry: true };
  }
}

export class StreamClient {
  private source: EventSource | null = null;
  private pending: SseEvent[] = [];
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private attempt = 0;
  private done = false;
  /** Bumped on every (re)connection so callbacks of an abandoned EventSource are ignored. */
  private generation = 0;
  private lastEventId = "";
  private readonly silence = new SilenceDetector(silenceTimeout(DEFAULT_HEARTBEAT_MS), (silentFor) =>
    this.reconnect(`No event or heartbeat for ${Math.round(silentFor / 1000)} s: the connection looks dead.`),
  );

  constructor(
    private readonly url: string,
    private readonly policy: RetryPolicy,
    private readonly callbacks: StreamClientCallbacks,
  ) {}

  start(): void {
    this.done = false;
    this.connect();
  }

  /** After giving up (or any time): try again now, with a fresh attempt counter. */
  retry(): void {
    if (this.done) return;
    clearTimeout(this.retryTimer);
    this.attempt = 0;
    this.connect();
  }

  stop(): void {
    this.done = true;
    this.generation += 1;
    this.source?.close();
    this.silence.stop();
    clearTimeout(this.flushTimer);
    clearTimeout(this.retryTimer);
  }

  private connect(): void {
    this.source?.close();
    const generation = ++this.generation;
    // A reconnect has already said "reconnecting (attempt n of m)" and why; keep that on screen.
    if (this.attempt === 0) this.callbacks.connection({ status: "connecting", error: null });
    // A new EventSource cannot send Last-Event-ID itself, so the cursor travels in the query.
    const url = this.lastEventId ? `${this.url}?lastEventId=${encodeURIComponent(this.lastEventId)}` : this.url;
    const source = new EventSource(url);
    this.source = source;
    // Also a connect timeout: a request accepted but never answered raises no event at all.
    this.silence.heard();
    const current = () => generation === this.generation && !this.done;
    for (const name of SSE_EVENT_NAMES) {
      source.addEventListener(name, (message) => current() && this.receive(name, message as MessageEvent<string>));
    }
    source.onopen = () => {
      if (!current()) return;
      this.attempt = 0;
      this.silence.heard();
      this.callbacks.connection({ status: "live", error: null });
    };
    source.onerror = () => {
      if (!current()) return;
      // CLOSED: the answer was not a stream (404, 503...): find out why. CONNECTING: a stream
      // that was open broke; the server is likely restarting.
      const closed = source.readyState === EventSource.CLOSED;
      source.close();
      this.silence.stop();
      if (!closed) return this.reconnect("The connection to the server was lost.");
      void describeStreamFailure(url).then((failure) => {
        if (!current()) return;
        if (failure.retry) return this.reconnect(failure.message);
        this.done = true;
        this.callbacks.connection({ status: "closed", error: failure.message });
      });
    };
  }

  private reconnect(reason: string): void {
    if (this.done) return;
    this.generation += 1; // whatever the old EventSource still does is ignored from now on
    this.source?.close();
    this.silence.stop();
    this.attempt += 1;
    if (this.attempt > this.policy.attempts) {
      this.callbacks.connection({ status: "lost", error: `${reason} Gave up after ${this.policy.attempts} attempts.` });
      return;
    }
    const delay = retryDelay(this.policy, this.attempt);
    this.callbacks.connection({
      status: "reconnecting",
      attempt: this.attempt,
      attempts: this.policy.attempts,
      error: `${reason} Reconnecting in ${Math.max(1, Math.round(delay / 1000))} s.`,
    });
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  private receive(name: SseEvent["event"], message: MessageEvent<string>): void {
    this.silence.heard();
    if (message.lastEventId) this.lastEventId = message.lastEventId;
    const parsed = sseEventSchemas[name].safeParse(parseJson(message.data));
    if (!parsed.success) return this.callbacks.rejected();
    const event = { event: name, data: parsed.data } as SseEvent;
    if (event.event === "heartbeat") return;
    if (event.event === "stream_open") this.silence.setTimeoutMs(silenceTimeout(event.data.heartbeat_ms));
    this.pending.push(event);
    if (event.event === "run_complete") {
      // The server ends the stream now; stopping keeps EventSource from reconnecting.
      this.stop();
      this.flush();
      this.callbacks.connection({ status: "closed", error: null });
      return;
    }
    this.flushTimer ??= setTimeout(() => this.flush(), FLUSH_INTERVAL_MS);
  }

  private flush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.callbacks.events(batch);
  }
}
