import { afterEach, describe, expect, it, vi } from "vitest";
import { captureLogs as capture } from "../test/support/log-capture";
import type { SseEvent } from "./events";
import { componentLogger, createLogger, replaceRootLogger, runLogger } from "./log";
import { SseConnection } from "./sse-connection";

const RUN_ID = "run-0123456789ab";
const output = (sequence: number): SseEvent => ({
  event: "agent_output",
  data: { run_id: RUN_ID, variation_id: "var-1", sequence, timestamp: new Date().toISOString(), content: `chunk ${sequence}` },
});

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("createLogger / runLogger", () => {
  it("writes one JSON object per line with the level's name, an ISO time, and the run's ids as fields", () => {
    const { lines, destination } = capture();
    runLogger(RUN_ID, "var-2", createLogger(destination, "info")).warn({ entry_id: "1-0" }, "skipped a malformed message");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: "warn", name: "runwatch", run_id: RUN_ID, variation_id: "var-2", entry_id: "1-0", msg: "skipped a malformed message" });
    expect(Date.parse(String(lines[0]!.time))).toBeGreaterThan(Date.now() - 60_000);
  });

  it("sends the process's logs to a replaced root logger until it is restored", () => {
    const { lines, destination } = capture();
    const restore = replaceRootLogger(createLogger(destination, "info"));
    componentLogger("redis").warn("captured");
    restore();
    componentLogger("redis").warn("not captured");
    expect(lines.map((l) => [l.component, l.msg])).toEqual([["redis", "captured"]]);
  });

  it("takes its level from LOG_LEVEL, and says so when LOG_LEVEL is not a level", () => {
    vi.stubEnv("LOG_LEVEL", "warn");
    const quiet = capture();
    const logger = createLogger(quiet.destination);
    logger.info("not written");
    logger.warn("written");
    expect(quiet.lines.map((l) => l.msg)).toEqual(["written"]);

    vi.stubEnv("LOG_LEVEL", "loud");
    const fallback = capture();
    createLogger(fallback.destination).info("written at info");
    expect(fallback.lines.map((l) => [l.level, l.msg])).toEqual([
      ["warn", "LOG_LEVEL is not a log level; using info"],
      ["info", "written at info"],
    ]);
  });
});

describe("SSE connection open and close lines", () => {
  it("logs the open, then the close with its duration in ms and the events it sent (keep-alives not counted)", async () => {
    const { lines, destination } = capture();
    const connection = new SseConnection(new AbortController().signal, { backend: "kubectl", runId: RUN_ID, logger: createLogger(destination, "info") });
    connection.start("kubectl", 60_000); // stream_open: a keep-alive, not an event delivered
    connection.sendEvents([output(1), output(2)]);
    connection.sendEvents([output(3)]);
    connection.sendFrame("agent_liveness", { run_id: RUN_ID, variation_id: "var-1", alive: true, last_seen: null });
    await new Promise((resolve) => setTimeout(resolve, 60));
    connection.close();
    connection.sendEvents([output(4)]); // after the close: not sent, not counted
    expect(lines.map((l) => l.msg)).toEqual(["sse connection opened", "sse connection closed"]);
    expect(lines[0]).toMatchObject({ level: "info", run_id: RUN_ID, backend: "kubectl" });
    const closed = lines[1]!;
    expect(closed).toMatchObject({ level: "info", run_id: RUN_ID, backend: "kubectl", events_sent: 4, reason: "ended" });
    expect(closed.duration_ms).toBeGreaterThanOrEqual(55);
    expect(closed.duration_ms).toBeLessThan(5_000);
  });

  it("says the viewer left when the request is aborted, and logs the close once", () => {
    const { lines, destination } = capture();
    const abort = new AbortController();
    const connection = new SseConnection(abort.signal, { backend: "control", runId: RUN_ID, variationId: "var-3", logger: createLogger(destination, "info") });
    connection.sendEvents([output(1)]);
    abort.abort();
    connection.close();
    const closes = lines.filter((l) => l.msg === "sse connection closed");
    expect(closes).toHaveLength(1);
    expect(closes[0]).toMatchObject({ run_id: RUN_ID, variation_id: "var-3", backend: "control", events_sent: 1, reason: "viewer_left" });
  });

  it("says a viewer too slow to read was cut off, without counting the events it never got", () => {
    const { lines, destination } = capture();
    const connection = new SseConnection(new AbortController().signal, { backend: "redis", runId: RUN_ID, logger: createLogger(destination, "info") });
    const big: SseEvent = {
      event: "agent_output",
      data: { run_id: RUN_ID, variation_id: "var-1", sequence: 1, timestamp: new Date().toISOString(), content: "x".repeat(1024 * 1024) },
    };
    let written = 0;
    while (!connection.closed && written < 100) {
      connection.sendEvents([big]);
      written++;
    }
    expect(connection.closed).toBe(true);
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      ["info", "sse connection opened"],
      ["warn", "sse viewer is not reading: disconnecting it"],
      ["info", "sse connection closed"],
    ]);
    expect(lines[2]).toMatchObject({ backend: "redis", reason: "too_slow", events_sent: written - 1 });
  });
});
