import { describe, expect, it } from "vitest";
import type { SseEvent } from "./events";
import { MAX_BUFFERED_BYTES, SseConnection } from "./sse-connection";

const MiB = 1024 * 1024;
const bigEvent = (content: string): SseEvent => ({
  event: "agent_output",
  data: { run_id: "run-0123456789ab", variation_id: "var-1", sequence: 1, timestamp: "2026-11-23T00:00:00Z", content },
});

describe("SseConnection", () => {
  it("disconnects a viewer that stops reading, dropping what it queued", async () => {
    const connection = new SseConnection(new AbortController().signal);
    let tornDown = false;
    connection.onClose(() => (tornDown = true));
    const chunk = "x".repeat(MiB);
    for (let i = 0; i * MiB <= MAX_BUFFERED_BYTES + MiB && !connection.closed; i++) connection.sendEvents([bigEvent(chunk)]);
    expect(connection.closed).toBe(true);
    expect(tornDown).toBe(true);
    await expect(connection.response.body!.getReader().read()).rejects.toThrow(/too slow/);
  });

  it("keeps a viewer that reads, however much flows", async () => {
    const connection = new SseConnection(new AbortController().signal);
    const reader = connection.response.body!.getReader();
    const chunk = "y".repeat(MiB);
    let received = 0;
    for (let i = 0; i < 12; i++) {
      connection.sendEvents([bigEvent(chunk)]);
      while (received < (i + 1) * MiB) received += (await reader.read()).value?.byteLength ?? 0;
    }
    expect(connection.closed).toBe(false);
    connection.close();
    expect((await reader.read()).done).toBe(true);
  });

  it("runs its teardown once, when the request is aborted", () => {
    const abort = new AbortController();
    const connection = new SseConnection(abort.signal);
    let calls = 0;
    connection.onClose(() => calls++);
    abort.abort();
    connection.close();
    expect(calls).toBe(1);
    expect(connection.closed).toBe(true);
  });
});
