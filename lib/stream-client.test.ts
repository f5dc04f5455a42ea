import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { RetryPolicy } from "./backoff";
import { StreamClient, type ConnectionState } from "./stream-client";

/** Just enough of EventSource to drive the client: tests open, emit and fail connections. */
class FakeEventSource {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSED = 2;
  static instances: FakeEventSource[] = [];
  readyState = FakeEventSource.CONNECTING;
  onopen: (() => void) | null = null;
  onerror: (() => void) | null = null;
  private listeners = new Map<string, ((e: MessageEvent) => void)[]>();
  constructor(readonly url: string) {
    FakeEventSource.instances.push(this);
  }
  addEventListener(name: string, fn: (e: MessageEvent) => void) {
    this.listeners.set(name, [...(this.listeners.get(name) ?? []), fn]);
  }
  close() {
    this.readyState = FakeEventSource.CLOSED;
  }
  open() {
    this.readyState = FakeEventSource.OPEN;
    this.onopen?.();
  }
  emit(name: string, data: unknown, lastEventId = "") {
    for (const fn of this.listeners.get(name) ?? []) fn({ data: JSON.stringify(data), lastEventId } as MessageEvent);
  }
  /** A stream that broke (the browser would retry by itself). */
  drop() {
    this.readyState = FakeEventSource.CONNECTING;
    this.onerror?.();
  }
}

const policy: RetryPolicy = { baseMs: 1_000, attempts: 3, capMs: 30_000 };
const latest = () => FakeEventSource.instances.at(-1)!;
const at = { run_id: "run-0123456789ab", variation_id: "var-1", timestamp: "2026-11-23T10:00:00.000Z" };

function client() {
  const states: ConnectionState[] = [];
  const batches: unknown[][] = [];
  const c = new StreamClient("/api/v1/runs/run-0123456789ab/stream/redis", policy, {
    events: (batch) => batches.push(batch),
    connection: (state) => states.push(state),
    rejected: () => undefined,
  });
  c.start();
  return { c, states, batches, last: () => states.at(-1)! };
}

describe("StreamClient", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.spyOn(Math, "random").mockReturnValue(0);
    FakeEventSource.instances = [];
    vi.stubGlobal("EventSource", FakeEventSource);
  });
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.restoreAllMocks();
    vi.useRealTimers();
  });

  it("reconnects with backoff, says which attempt it is on, gives up after the last, and Retry starts over", async () => {
    const { c, last } = client();
    latest().drop();
    expect(last()).toMatchObject({ status: "reconnecting", attempt: 1, attempts: 3 });
    vi.advanceTimersByTime(999);
    expect(FakeEventSource.instances).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(FakeEventSource.instances).toHaveLength(2);
    latest().drop();
    expect(last()).toMatchObject({ status: "reconnecting", attempt: 2 });
    vi.advanceTimersByTime(2_000);
    latest().drop();
    expect(last()).toMatchObject({ status: "reconnecting", attempt: 3 });
    vi.advanceTimersByTime(4_000);
    latest().drop();
    expect(last()).toMatchObject({ status: "lost", error: expect.stringMatching(/Gave up after 3 attempts/) });
    vi.advanceTimersByTime(60_000);
    expect(FakeEventSource.instances).toHaveLength(4); // nothing more after giving up

    c.retry();
    expect(FakeEventSource.instances).toHaveLength(5);
    expect(last()).toMatchObject({ status: "connecting" });
    latest().open();
    expect(last()).toMatchObject({ status: "live", error: null });
    c.stop();
  });

  it("resets the attempt counter once a connection opens, and resumes from the last event id", () => {
    const { c, last } = client();
    latest().open();
    latest().emit("agent_output", { ...at, sequence: 1, content: "x" }, "1732350000000-4");
    latest().drop();
    vi.advanceTimersByTime(1_000);
    expect(latest().url).toBe("/api/v1/runs/run-0123456789ab/stream/redis?lastEventId=1732350000000-4");
    latest().open();
    latest().drop();
    expect(last()).toMatchObject({ status: "reconnecting", attempt: 1 });
    c.stop();
  });

  it("treats a stream silent for 2.5 heartbeats as dead and reconnects", () => {
    const { c, last } = client();
    latest().open();
    latest().emit("stream_open", { backend: "redis", heartbeat_ms: 1_000 });
    vi.advanceTimersByTime(2_000);
    latest().emit("heartbeat", { timestamp: at.timestamp });
    vi.advanceTimersByTime(2_499);
    expect(last().status).toBe("live");
    vi.advanceTimersByTime(1);
    expect(last()).toMatchObject({ status: "reconnecting", attempt: 1, error: expect.stringMatching(/No event or heartbeat/) });
    expect(FakeEventSource.instances[0]!.readyState).toBe(FakeEventSource.CLOSED);
    c.stop();
  });

  it("stops for good on run_complete, delivering what came before it", () => {
    const { batches, last } = client();
    latest().open();
    latest().emit("agent_output", { ...at, sequence: 1, content: "x" });
    latest().emit("run_complete", { run_id: at.run_id, timestamp: at.timestamp, statuses: { "var-1": "completed" } });
    expect(last()).toMatchObject({ status: "closed", error: null });
    expect(batches.flat().map((e) => (e as { event: string }).event)).toEqual(["agent_output", "run_complete"]);
    vi.advanceTimersByTime(600_000);
    expect(FakeEventSource.instances).toHaveLength(1);
  });

  it("does not retry a 404: it shows the server's reason", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => Response.json({ error: { message: "Run run-0123456789ab not found" } }, { status: 404 })));
    const { last } = client();
    latest().readyState = FakeEventSource.CLOSED;
    latest().onerror?.();
    await vi.waitFor(() => expect(last().status).toBe("closed"));
    expect(last().error).toMatch(/\(404\): Run run-0123456789ab not found/);
    vi.advanceTimersByTime(600_000);
    expect(FakeEventSource.instances).toHaveLength(1);
  });
});
