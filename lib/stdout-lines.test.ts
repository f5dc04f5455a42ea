import { describe, expect, it } from "vitest";
import { StdoutLineReader } from "./stdout-lines";

const runId = "run-0123456789ab";
const message = (sequence: number, extra: Record<string, unknown>) =>
  JSON.stringify({ run_id: runId, variation_id: "var-1", sequence, timestamp: "2026-11-23T10:00:00.000Z", ...extra });

describe("StdoutLineReader", () => {
  const now = () => "2026-11-23T11:00:00.000Z";

  it("maps agent messages with the shared mapping", () => {
    const reader = new StdoutLineReader(runId, "var-1", now);
    const result = reader.read(message(1, { type: "status", content: "completed" }));
    expect(result.kind).toBe("message");
    expect(result.kind !== "misrouted" && result.events.map((e) => e.event)).toEqual(["agent_status", "agent_complete"]);
    expect(reader.lastSequence).toBe(1);
  });

  it("shows a line that is not an agent message as output text, numbered after the last message", () => {
    const reader = new StdoutLineReader(runId, "var-1", now);
    expect(reader.read("Starting up…")).toEqual({
      kind: "text",
      events: [{ event: "agent_output", data: { run_id: runId, variation_id: "var-1", sequence: 0, fragment: 1, timestamp: now(), content: "Starting up…\n" } }],
    });
    reader.read(message(4, { type: "output", content: "x" }));
    const [a] = (reader.read('{"not": "a message"}') as { events: { data: unknown }[] }).events;
    const [b] = (reader.read("") as { events: { data: unknown }[] }).events;
    expect(a?.data).toMatchObject({ sequence: 4, fragment: 1, content: '{"not": "a message"}\n' });
    expect(b?.data).toMatchObject({ sequence: 4, fragment: 2, content: "\n" });
  });

  it("never shows another variation's message in this pane", () => {
    const reader = new StdoutLineReader(runId, "var-2", now);
    expect(reader.read(message(1, { type: "output", content: "x" })).kind).toBe("misrouted");
    expect(reader.lastSequence).toBe(0);
  });
});
