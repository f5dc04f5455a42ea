import { describe, expect, it } from "vitest";
import type { SseEvent } from "./events";
import { encodeFrame } from "./sse";
import { MAX_BUFFERED_BYTES, MAX_CHUNK_BYTES, SseConnection } from "./sse-connection";

const MiB = 1024 * 1024;
const bigEvent = (content: string): SseEvent => ({
  event: "agent_output",
  data: { run_id: "run-0123456789ab", variation_id: "var-1", sequence: 1, timestamp: "2026-11-23T00:00:00Z", content },
});

const output = (sequence: number, content = `token ${sequence}`): SseEvent => ({
  event: "agent_output",
  data: { run_id: "run-0123456789ab", variation_id: "var-1", sequence, timestamp: "2026-11-23T00:00:00Z", content },
});
const nextTick = () => new Promise<void>((resolve) => setImmediate(resolve));
const decoder = new TextDecoder();

/** Reads the body chunk by chunk as the consumer gets them (each one is one enqueue). */
async function readChunks(connection: SseConnection): Promise<string[]> {
  const reader = connection.response.body!.getReader();
  const chunks: string[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return chunks;
    chunks.push(decoder.decode(value));
  }
}

/** The sequence numbers of the agent_output frames in `text`, in order. */
const sequencesIn = (text: string) => [...text.matchAll(/"sequence":(\d+)/g)].map((m) => Number(m[1]));

describe("SseConnection write coalescing", () => {
  it("sends 1,000 events written in one tick as one chunk, in order", async () => {
    const connection = new SseConnection(new AbortController().signal);
    const reading = readChunks(connection);
    await nextTick(); // the opening retry/comment chunk goes out on its own
    for (let i = 1; i <= 1_000; i++) connection.sendEvents([output(i)]);
    await nextTick();
    connection.close();
    const [opening, burst, ...rest] = await reading;
    expect(opening).toContain(": connected");
    expect(rest).toEqual([]);
    expect(sequencesIn(burst!)).toEqual(Array.from({ length: 1_000 }, (_, i) => i + 1));
    expect(burst!.match(/^event: agent_output$/gm)).toHaveLength(1_000);
  });

  it("hands a message's shared bytes to every viewer as they are, and joins them with text in order", async () => {
    const shared = Buffer.from(encodeFrame({ event: "agent_output", data: output(2).data, id: "1-2" }));
    const connections = [new SseConnection(new AbortController().signal), new SseConnection(new AbortController().signal)];
    const chunks = connections.map((c) => {
      const reader = c.response.body!.getReader();
      const raw: Uint8Array[] = [];
      return (async () => {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return raw;
          raw.push(value);
        }
      })();
    });
    await nextTick();
    // The first viewer gets the message alone; the second has text before and after it.
    connections[0]!.sendEncoded(shared, 1);
    connections[1]!.sendEvents([output(1)]);
    connections[1]!.sendEncoded(shared, 1);
    connections[1]!.sendEvents([output(3)]);
    await nextTick();
    for (const c of connections) c.close();
    const [first, second] = await Promise.all(chunks);
    expect(first![1]).toBe(shared); // not copied
    expect(sequencesIn(decoder.decode(second![1]))).toEqual([1, 2, 3]);
    expect(second).toHaveLength(2);
  });

  it("sends what two ticks wrote as two chunks", async () => {
    const connection = new SseConnection(new AbortController().signal);
    const reading = readChunks(connection);
    await nextTick();
    for (let i = 1; i <= 3; i++) connection.sendEvents([output(i)]);
    await nextTick();
    connection.sendFrame("agent_output", output(4).data);
    connection.sendEvents([output(5), output(6)]);
    await nextTick();
    connection.close();
    const chunks = (await reading).slice(1);
    expect(chunks.map(sequencesIn)).toEqual([[1, 2, 3], [4, 5, 6]]);
  });

  it("sends a chunk at once when it reaches MAX_CHUNK_BYTES, without waiting for the tick", async () => {
    const connection = new SseConnection(new AbortController().signal);
    const reading = readChunks(connection);
    const half = "h".repeat(MAX_CHUNK_BYTES / 2);
    connection.sendEvents([output(1, half)]);
    connection.sendEvents([output(2, half)]); // past MAX_CHUNK_BYTES: enqueued now
    connection.sendEvents([output(3)]);
    connection.close();
    const chunks = await reading;
    expect(chunks.map(sequencesIn)).toEqual([[1, 2], [3]]);
  });

  it("flushes each viewer written in a tick once, in order, skipping one closed meanwhile", async () => {
    const [a, b, c] = [0, 1, 2].map(() => new SseConnection(new AbortController().signal)) as [SseConnection, SseConnection, SseConnection];
    // b's body errors when it is cut: caught at once, or the rejection is unhandled meanwhile.
    const readings = [readChunks(a), readChunks(b).catch((error: Error) => error), readChunks(c)] as const;
    await nextTick();
    a.sendEvents([output(1)]);
    b.sendEvents([output(1)]);
    c.sendEvents([output(1)]);
    b.close(new Error("gone")); // queued for the flush, then dropped
    a.flushNow(); // out early: the shared flush must not send it again
    a.sendEvents([output(2)]); // queued once more, after the early flush
    c.sendEvents([output(2)]);
    await nextTick();
    a.sendEvents([output(3)]);
    await nextTick();
    a.close();
    c.close();
    const [aChunks, bResult, cChunks] = await Promise.all(readings);
    expect(aChunks.slice(1).map(sequencesIn)).toEqual([[1], [2], [3]]);
    expect(bResult).toBeInstanceOf(Error);
    expect(cChunks.slice(1).map(sequencesIn)).toEqual([[1, 2]]);
  });

  it("delivers pending events before ending on close()", async () => {
    const connection = new SseConnection(new AbortController().signal);
    const reading = readChunks(connection);
    for (let i = 1; i <= 5; i++) connection.sendEvents([output(i)]);
    connection.close(); // same tick: nothing enqueued yet
    connection.sendEvents([output(6)]); // after the close: dropped
    const chunks = await reading;
    expect(chunks).toHaveLength(1);
    expect(chunks[0]).toContain(": connected");
    expect(sequencesIn(chunks.join(""))).toEqual([1, 2, 3, 4, 5]);
  });

  it("drops pending events on close(error)", async () => {
    const connection = new SseConnection(new AbortController().signal);
    const reader = connection.response.body!.getReader();
    await nextTick();
    expect(decoder.decode((await reader.read()).value)).toContain(": connected");
    for (let i = 1; i <= 5; i++) connection.sendEvents([output(i)]);
    connection.close(new Error("gone wrong"));
    await expect(reader.read()).rejects.toThrow(/gone wrong/);
  });

  it("counts pending bytes towards the slow-viewer limit", async () => {
    const connection = new SseConnection(new AbortController().signal);
    const reader = connection.response.body!.getReader();
    // Queue (unread) to within half a chunk of the limit, a tick at a time.
    const big = "q".repeat(MAX_CHUNK_BYTES / 2);
    let queued = 0;
    while (queued + big.length < MAX_BUFFERED_BYTES) {
      connection.sendEvents([output(1, big)]);
      queued += big.length;
      await nextTick();
    }
    expect(connection.closed).toBe(false);
    // Then small events in one tick: they stay pending (far from MAX_CHUNK_BYTES), yet
    // together they take the viewer over the limit, and it is cut off there and then.
    const small = "s".repeat(1_000);
    let written = 0;
    while (!connection.closed && written < 10_000) {
      connection.sendEvents([output(2, small)]);
      written++;
    }
    expect(connection.closed).toBe(true);
    expect(written * small.length).toBeLessThan(0.75 * MAX_CHUNK_BYTES);
    await expect(reader.read()).rejects.toThrow(/too slow/);
  });
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
