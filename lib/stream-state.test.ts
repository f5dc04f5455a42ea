import { describe, expect, it } from "vitest";
import type { SseEvent } from "./events";
import { applyEvents, initialStreamState } from "./stream-state";

const at = { run_id: "run-0123456789ab", timestamp: "2026-11-23T10:30:00.000Z" };

describe("applyEvents", () => {
  it("appends output and logs per variation, tracks status, metrics and errors", () => {
    const start = initialStreamState([
      { variation_id: "var-1", status: null },
      { variation_id: "var-2", status: "running" },
    ]);
    const events: SseEvent[] = [
      { event: "agent_status", data: { ...at, variation_id: "var-1", sequence: 1, status: "running", metadata: {} } },
      { event: "agent_output", data: { ...at, variation_id: "var-1", sequence: 2, content: "# Hel" } },
      { event: "agent_output", data: { ...at, variation_id: "var-1", sequence: 3, content: "lo" } },
      { event: "agent_log", data: { ...at, variation_id: "var-2", sequence: 4, level: "warn", content: "slow" } },
      { event: "agent_metric", data: { ...at, variation_id: "var-1", sequence: 5, metrics: { tokens: 2 } } },
      { event: "agent_error", data: { ...at, variation_id: "var-2", sequence: 6, error: "boom" } },
    ];
    const next = applyEvents(start, events);
    expect(next.variations["var-1"]).toMatchObject({ status: "running", output: "# Hello", metrics: { tokens: 2 }, lastSequence: 5 });
    expect(next.variations["var-2"]).toMatchObject({ status: "failed", error: "boom" });
    expect(next.variations["var-2"]!.logs).toEqual([{ sequence: 4, timestamp: at.timestamp, level: "warn", text: "slow" }]);
    // the input state is not mutated
    expect(start.variations["var-1"]!.output).toBe("");
  });

  it("adds panes for variations it did not know and marks the run complete", () => {
    const next = applyEvents(initialStreamState(), [
      { event: "agent_complete", data: { ...at, variation_id: "x", sequence: 9, status: "completed" } },
      { event: "run_complete", data: { ...at, statuses: { x: "completed" } } },
    ]);
    expect(next.order).toEqual(["x"]);
    expect(next.variations.x?.status).toBe("completed");
    expect(next.runComplete).toBe(true);
  });

  it("keeps untouched variations identical so memoised panes skip rendering", () => {
    const start = initialStreamState([
      { variation_id: "a", status: null },
      { variation_id: "b", status: null },
    ]);
    const next = applyEvents(start, [{ event: "agent_output", data: { ...at, variation_id: "a", sequence: 1, content: "x" } }]);
    expect(next.variations.b).toBe(start.variations.b);
    expect(next.variations.a).not.toBe(start.variations.a);
  });
});
