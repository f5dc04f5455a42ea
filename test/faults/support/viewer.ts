/**
 * A viewer of a run's SSE stream in plain Node, resuming the way the browser's StreamClient
 * (lib/stream-client.ts) does: on any error, end of stream or silence it reconnects after an
 * exponential, jittered backoff, sending the last event id it saw. What it receives goes
 * through the page's own reducer (lib/stream-state.ts), so "shown" means what a user would see.
 * Given several app instances, it moves to the next one when its current one cannot be reached.
 */
import { createParser } from "eventsource-parser";
import { retryDelay } from "@/lib/backoff";
import { sseEventSchemas, type SseEvent, type SseEventName } from "@/lib/events";
import { applyEvents, initialStreamState, type RunStreamState } from "@/lib/stream-state";

const RETRY = { baseMs: 250, capMs: 4_000, attempts: Infinity };

/** Events a user sees as part of a variation's history (not connection chatter). */
type VariationEvent = Extract<SseEvent, { data: { sequence: number } }>;

export class Viewer {
  state: RunStreamState = initialStreamState();
  /** (variation, sequence) of every agent message received at least once. */
  readonly received = new Set<string>();
  /** Events received more than once (before the reducer drops them): resumes overlap. */
  rawDuplicates = 0;
  /** Variation events the reducer applied, and distinct ones: the difference was shown twice. */
  private applied = 0;
  private readonly appliedKeys = new Set<string>();
  /** Each variation's failure as this viewer heard it, and when. */
  readonly failures = new Map<string, { error: string; exitCode?: number; at: number }>();
  reconnects = 0;
  /** Failed attempts to (re)open the stream: refused, 503, unreachable. */
  failedOpens = 0;
  lastEventId = "";
  /** Why the last attempt to open the stream failed. */
  lastError = "";
  lastEventAt = 0;
  complete = false;
  /** Each base URL that served this viewer, in order. */
  readonly servedBy: string[] = [];
  /** The stream entry id each (variation, sequence) came with: says where a missing one sits. */
  readonly idOf = new Map<string, string>();
  /** Every connection, for the report when a viewer misses something. */
  readonly sessions: Array<{ url: string; cursor: string; openedAt: number; endedAt: number; first: string; last: string; events: number; end: string }> = [];
  private base = 0;
  private controller: AbortController | null = null;
  private stopped = false;
  /** When set, the next reconnect waits this long instead of the backoff (a storm's spread). */
  private nextDelayMs: number | null = null;
  readonly done: Promise<void>;

  constructor(
    private readonly baseUrls: readonly string[],
    private readonly runId: string,
    private readonly silenceMs: number,
  ) {
    this.done = this.loop();
  }

  /** Drop the connection now and come back after `delayMs` with Last-Event-ID. */
  cut(delayMs: number): void {
    this.nextDelayMs = delayMs;
    this.controller?.abort();
  }

  stop(): void {
    this.stopped = true;
    this.controller?.abort();
  }

  /** The viewer's first event after `time`, or null: when it was streaming again. */
  firstEventAfter = new Map<number, number>();

  watchFrom(time: number): void {
    this.firstEventAfter.set(time, 0);
  }

  get shownDuplicates(): number {
    return this.applied - this.appliedKeys.size;
  }

  private async loop(): Promise<void> {
    let attempt = 0;
    while (!this.stopped && !this.complete) {
      const opened = await this.connectOnce().catch((error: Error) => {
        this.lastError = `${error.message}${error.cause ? ` (${String(error.cause)})` : ""}`;
        return false;
      });
      if (this.stopped || this.complete) return;
      if (opened) attempt = 0;
      else {
        this.failedOpens += 1;
        this.base = (this.base + 1) % this.baseUrls.length;
      }
      attempt += 1;
      this.reconnects += 1;
      const delay = this.nextDelayMs ?? retryDelay(RETRY, attempt);
      this.nextDelayMs = null;
      await new Promise((r) => setTimeout(r, delay));
    }
  }

  /** One connection until it ends; false if it never opened. */
  private async connectOnce(): Promise<boolean> {
    const controller = new AbortController();
    this.controller = controller;
    const url = `${this.baseUrls[this.base]}/api/v1/runs/${this.runId}/stream/redis`;
    const response = await fetch(url, { headers: this.lastEventId ? { "Last-Event-ID": this.lastEventId } : {}, signal: controller.signal });
    if (!response.ok || !response.body) {
      this.lastError = `${response.status}: ${await response.text().catch(() => "")}`;
      if (response.status < 500 && response.status !== 429) throw new Error(`${url}: ${response.status}`);
      return false;
    }
    this.servedBy.push(this.baseUrls[this.base]!);
    const session = { url: this.baseUrls[this.base]!, cursor: this.lastEventId, openedAt: Date.now(), endedAt: 0, first: "", last: "", events: 0, end: "server ended the stream" };
    this.sessions.push(session);
    this.session = session;
    let silence = setTimeout(() => controller.abort(), this.silenceMs);
    const batch: SseEvent[] = [];
    const parser = createParser({ onEvent: (message) => this.take(message.event as SseEventName | undefined, message.data, message.id, batch) });
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const chunk = await reader.read();
        if (chunk.done) break;
        clearTimeout(silence);
        silence = setTimeout(() => controller.abort(), this.silenceMs);
        parser.feed(decoder.decode(chunk.value, { stream: true }));
        this.apply(batch.splice(0));
        if (this.complete) break;
      }
    } catch (error) {
      // cut, silent or the server went away: the loop resumes
      session.end = `${(error as Error).name}: ${(error as Error).message}`;
    } finally {
      clearTimeout(silence);
      controller.abort();
      session.endedAt = Date.now();
      if (this.complete) session.end = "run_complete";
    }
    return true;
  }

  private session: Viewer["sessions"][number] | null = null;

  private take(name: SseEventName | undefined, data: string, id: string | undefined, batch: SseEvent[]): void {
    if (!name || !(name in sseEventSchemas)) return;
    if (id) {
      this.lastEventId = id;
      if (this.session) {
        this.session.first ||= id;
        this.session.last = id;
        this.session.events += 1;
      }
    }
    const parsed = sseEventSchemas[name].safeParse(JSON.parse(data));
    if (!parsed.success) throw new Error(`the ${name} event fails its schema: ${data}`);
    const event = { event: name, data: parsed.data } as SseEvent;
    if (name === "heartbeat" || name === "stream_open") return;
    const now = Date.now();
    this.lastEventAt = now;
    for (const [time, first] of this.firstEventAfter) if (!first && now > time) this.firstEventAfter.set(time, now);
    if ("sequence" in event.data) {
      const { variation_id, sequence } = (event as VariationEvent).data;
      const key = `${variation_id}:${sequence}`;
      const eventKey = `${key}:${name}`;
      if (this.seenEvents.has(eventKey)) this.rawDuplicates += 1;
      this.seenEvents.add(eventKey);
      this.received.add(key);
      if (id) this.idOf.set(key, id);
    }
    if (event.event === "agent_error") this.failures.set(event.data.variation_id, { error: event.data.error, exitCode: event.data.exit_code, at: now });
    batch.push(event);
    if (name === "run_complete") this.complete = true;
  }

  private readonly seenEvents = new Set<string>();

  private apply(events: SseEvent[]): void {
    if (events.length === 0) return;
    const skippedBefore = this.state.duplicatesSkipped;
    this.state = applyEvents(this.state, events);
    const variationEvents = events.filter((e): e is VariationEvent => "sequence" in e.data);
    // The reducer skipped (duplicatesSkipped) some; the rest it applied.
    this.applied += variationEvents.length - (this.state.duplicatesSkipped - skippedBefore);
    for (const e of variationEvents) this.appliedKeys.add(`${e.data.variation_id}:${e.data.sequence}:${e.event}`);
  }
}
