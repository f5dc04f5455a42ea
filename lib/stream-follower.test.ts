import { describe, expect, it } from "vitest";
import { MAX_BUFFERED_BYTES, SseConnection } from "./sse-connection";
import { StreamFollower, type StreamEntry } from "./stream-follower";

class Follower extends StreamFollower {
  handled: string[] = [];
  fromHistory: string[] = [];
  protected override sentFromHistory(entry: StreamEntry): void {
    this.fromHistory.push(entry.id);
  }
  protected accepts(): boolean {
    return true;
  }
  protected handle(entry: StreamEntry): void {
    this.handled.push(entry.id);
  }
}

const envelope = (id: string, size: number) => JSON.stringify({ id, message: { content: "x".repeat(size) } });

describe("StreamFollower", () => {
  it("cuts off a viewer whose live messages pile up while its replay is held (it resumes from history)", () => {
    const connection = new SseConnection(new AbortController().signal);
    const follower = new Follower(connection, "run:{run-0123456789ab}:events", null, "test");
    const size = 64 * 1024;
    let n = 0;
    while (!connection.closed && n * size < 2 * MAX_BUFFERED_BYTES) follower.onPublished("run:run-0123456789ab:status", envelope(`1-${n++}`, size));
    expect(connection.closed).toBe(true);
    expect(n * size).toBeGreaterThan(MAX_BUFFERED_BYTES - size); // not before the limit
    expect(n * size).toBeLessThan(MAX_BUFFERED_BYTES + 2 * size);
  });

  it("keeps what arrives during the replay and sends it, in order, when going live", () => {
    const connection = new SseConnection(new AbortController().signal);
    const follower = new Follower(connection, "run:{run-0123456789ab}:events", null, "test");
    for (const id of ["1-1", "1-2", "1-3"]) follower.onPublished("run:run-0123456789ab:status", envelope(id, 10));
    expect(follower.handled).toEqual([]);
    follower.goLive();
    expect(follower.handled).toEqual(["1-1", "1-2", "1-3"]);
    expect(connection.closed).toBe(false);
    connection.close();
  });

  it("hands a live message the history already sent to sentFromHistory, and sends it once", () => {
    const connection = new SseConnection(new AbortController().signal);
    // The cursor stands for what the history sent: everything up to 1-2.
    const follower = new Follower(connection, "run:{run-0123456789ab}:events", "1-2", "test");
    for (const id of ["1-1", "1-2", "1-3"]) follower.onPublished("run:run-0123456789ab:status", envelope(id, 10));
    follower.goLive();
    expect(follower.handled).toEqual(["1-3"]);
    expect(follower.fromHistory).toEqual(["1-1", "1-2"]);
    connection.close();
  });
});
