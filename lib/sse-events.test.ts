import { describe, expect, it } from "vitest";
import type { AgentMessage } from "./events";
import { parseAgentMessage, RunCompletion, toSseEvents } from "./sse-events";

const base = { timestamp: "2026-11-23T10:30:00.000Z", run_id: "run-0123456789ab", variation_id: "var-1", sequence: 7 };
const shared = { run_id: base.run_id, variation_id: "var-1", sequence: 7, timestamp: base.timestamp };

describe("toSseEvents", () => {
  it("maps output, log and metric messages to one event each", () => {
    expect(toSseEvents({ ...base, type: "output", content: "hi", metadata: {} })).toEqual([
      { event: "agent_output", data: { ...shared, content: "hi" } },
    ]);
    expect(toSseEvents({ ...base, type: "log", content: "x", metadata: {} })).toEqual([
      { event: "agent_log", data: { ...shared, level: "info", content: "x" } },
    ]);
    expect(toSseEvents({ ...base, type: "metric", content: { tokens: 3 }, metadata: {} })).toEqual([
      { event: "agent_metric", data: { ...shared, metrics: { tokens: 3 } } },
    ]);
  });

  it("adds agent_complete and agent_error after terminal statuses", () => {
    const completed: AgentMessage = { ...base, type: "status", content: "completed", metadata: {} };
    expect(toSseEvents(completed).map((e) => e.event)).toEqual(["agent_status", "agent_complete"]);
    const failed: AgentMessage = { ...base, type: "status", content: "failed", metadata: { error: "boom", exit_code: 3 } };
    expect(toSseEvents(failed)).toEqual([
      { event: "agent_status", data: { ...shared, status: "failed", metadata: { error: "boom", exit_code: 3 } } },
      { event: "agent_error", data: { ...shared, error: "boom", exit_code: 3 } },
    ]);
    const running: AgentMessage = { ...base, type: "status", content: "running", metadata: {} };
    expect(toSseEvents(running).map((e) => e.event)).toEqual(["agent_status"]);
  });
});

describe("parseAgentMessage", () => {
  it("says why a message is refused", () => {
    expect(parseAgentMessage("not json")).toEqual({ ok: false, reason: "not JSON" });
    const result = parseAgentMessage(JSON.stringify({ ...base, type: "output", content: 1 }));
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toMatch(/content/);
  });

  it("accepts a good message", () => {
    const result = parseAgentMessage(JSON.stringify({ ...base, type: "output", content: "x" }));
    expect(result.ok && result.message.content).toBe("x");
  });
});

describe("RunCompletion", () => {
  it("completes when every variation is completed or failed", () => {
    const completion = new RunCompletion(["a", "b"]);
    completion.observe("a", "running");
    completion.observe("a", "completed");
    expect(completion.isComplete()).toBe(false);
    completion.observe("b", "failed");
    expect(completion.isComplete()).toBe(true);
    expect(completion.snapshot()).toEqual({ a: "completed", b: "failed" });
  });

  it("ignores unknown variations and late non-terminal statuses", () => {
    const completion = new RunCompletion(["a"], { a: "completed" });
    completion.observe("a", "running");
    completion.observe("zzz", "running");
    expect(completion.isComplete()).toBe(true);
    expect(completion.snapshot()).toEqual({ a: "completed" });
  });
});
