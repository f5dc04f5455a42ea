import { describe, expect, it } from "vitest";
import type { SseEvent } from "./events";
import { itemAt, toArray } from "./append-list";
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
    expect(toArray(next.variations["var-2"]!.logs)).toEqual([{ sequence: 4, timestamp: at.timestamp, level: "warn", text: "slow" }]);
    // the input state is not mutated
    expect(start.variations["var-1"]!.output).toBe("");
  });

  it("appends a batch's log lines to a new list holding the same earlier lines, and leaves the old one alone", () => {
    const log = (sequence: number, content: string): SseEvent => ({ event: "agent_log", data: { ...at, variation_id: "var-1", sequence, level: "info", content } });
    const before = applyEvents(initialStreamState(), [log(1, "a"), log(2, "b")]);
    const after = applyEvents(before, [log(3, "c"), log(4, "d")]);
    const [old, now] = [before.variations["var-1"]!.logs, after.variations["var-1"]!.logs];
    expect(toArray(old).map((l) => l.text)).toEqual(["a", "b"]);
    expect(toArray(now).map((l) => l.text)).toEqual(["a", "b", "c", "d"]);
    // What lib/log-view.ts needs to filter only the new lines: same objects, not copies.
    expect(itemAt(now, 0)).toBe(itemAt(old, 0));
    expect(itemAt(now, 1)).toBe(itemAt(old, 1));
    // A reset in the middle of a batch drops what came before it, in the batch too.
    const reset = applyEvents(after, [log(5, "e"), { event: "reset", data: { run_id: at.run_id, reason: "trimmed" } }, log(9, "f")]);
    expect(toArray(reset.variations["var-1"]!.logs).map((l) => l.text)).toEqual(["f"]);
    expect(now).toHaveLength(4);
  });

  it("keeps a final status final: a late pause or error cannot reopen or relabel a finished variation", () => {
    const next = applyEvents(initialStreamState([{ variation_id: "var-1", status: null }]), [
      { event: "agent_status", data: { ...at, variation_id: "var-1", sequence: 1, status: "completed", metadata: {} } },
      { event: "agent_complete", data: { ...at, variation_id: "var-1", sequence: 1, status: "completed" } },
      { event: "agent_status", data: { ...at, variation_id: "var-1", sequence: 2, status: "paused", metadata: { control_id: "ctl-0000000000000001" } } },
      { event: "agent_status", data: { ...at, variation_id: "var-1", sequence: 3, status: "failed", metadata: {} } },
      { event: "agent_error", data: { ...at, variation_id: "var-1", sequence: 3, error: "late" } },
    ]);
    expect(next.variations["var-1"]).toMatchObject({ status: "completed", error: null });
    // The acknowledgement is still recorded: the page stops waiting for it.
    expect(next.variations["var-1"]!.acks).toEqual(["ctl-0000000000000001"]);
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

  it("skips events already applied when a stream is replayed after a reconnect", () => {
    const first: SseEvent[] = [
      { event: "agent_output", data: { ...at, variation_id: "var-1", sequence: 1, content: "a" } },
      { event: "agent_output", data: { ...at, variation_id: "var-1", sequence: 2, content: "b" } },
      { event: "agent_status", data: { ...at, variation_id: "var-1", sequence: 3, status: "completed", metadata: {} } },
      { event: "agent_complete", data: { ...at, variation_id: "var-1", sequence: 3, status: "completed" } },
      { event: "agent_log", data: { ...at, variation_id: "var-2", sequence: 1, level: "info", content: "x" } },
    ];
    const once = applyEvents(initialStreamState(), first);
    // A reconnect replays everything (the log backend restarts from the first line), in two batches.
    const replayed = applyEvents(applyEvents(once, first.slice(0, 2)), first.slice(2));
    expect(replayed.variations["var-1"]).toMatchObject({ output: "ab", status: "completed" });
    expect(replayed.variations["var-2"]!.logs).toHaveLength(1);
    expect(replayed.duplicatesSkipped).toBe(first.length);
    // ...and what comes after the replay is applied.
    const more = applyEvents(replayed, [{ event: "agent_log", data: { ...at, variation_id: "var-2", sequence: 2, level: "info", content: "y" } }]);
    expect(toArray(more.variations["var-2"]!.logs).map((l) => l.text)).toEqual(["x", "y"]);
  });

  it("applies both events of one agent message, once each", () => {
    const status: SseEvent = { event: "agent_status", data: { ...at, variation_id: "var-1", sequence: 7, status: "failed", metadata: {} } };
    const error: SseEvent = { event: "agent_error", data: { ...at, variation_id: "var-1", sequence: 7, error: "boom" } };
    const state = applyEvents(initialStreamState(), [status, error, status, error]);
    expect(state.variations["var-1"]).toMatchObject({ status: "failed", error: "boom" });
    expect(state.duplicatesSkipped).toBe(2);
  });

  it("keeps plain text lines (fragments) apart and skips them when replayed", () => {
    const line = (sequence: number, fragment: number, content: string): SseEvent => ({
      event: "agent_output",
      data: { ...at, variation_id: "var-1", sequence, fragment, content },
    });
    const events = [line(0, 1, "booting\n"), line(0, 2, "ready\n"), { event: "agent_output", data: { ...at, variation_id: "var-1", sequence: 1, content: "# A" } } as SseEvent, line(1, 1, "plain\n")];
    const state = applyEvents(applyEvents(initialStreamState(), events), events);
    expect(state.variations["var-1"]!.output).toBe("booting\nready\n# Aplain\n");
    expect(state.duplicatesSkipped).toBe(4);
  });

  it("ignores stream_open and heartbeat", () => {
    const start = initialStreamState();
    const next = applyEvents(start, [
      { event: "stream_open", data: { backend: "redis", heartbeat_ms: 1000 } },
      { event: "heartbeat", data: { timestamp: at.timestamp } },
    ]);
    expect(next).toEqual(start);
  });

  it("applies an error reported after plain text lines (the log backend numbers it after the last message)", () => {
    const state = applyEvents(initialStreamState(), [
      { event: "agent_output", data: { ...at, variation_id: "var-1", sequence: 5, content: "x" } },
      { event: "agent_output", data: { ...at, variation_id: "var-1", sequence: 5, fragment: 1, content: "Traceback\n" } },
      { event: "agent_error", data: { ...at, variation_id: "var-1", sequence: 6, error: "kubectl exited" } },
    ]);
    expect(state.variations["var-1"]).toMatchObject({ status: "failed", error: "kubectl exited", gaps: [{ from: 1, to: 4 }] });
  });

  it("records gaps in a variation's sequence instead of hiding them", () => {
    const output = (sequence: number): SseEvent => ({ event: "agent_output", data: { ...at, variation_id: "var-1", sequence, content: String(sequence) } });
    const state = applyEvents(initialStreamState(), [output(1), output(2), output(5), output(6), output(9)]);
    expect(state.variations["var-1"]!.gaps).toEqual([{ from: 3, to: 4 }, { from: 7, to: 8 }]);
    expect(state.variations["var-1"]!.output).toBe("12569");
  });

  it("on reset, replaces what it shows with the history that follows", () => {
    const before = applyEvents(initialStreamState([{ variation_id: "var-1", status: null }]), [
      { event: "agent_output", data: { ...at, variation_id: "var-1", sequence: 1, content: "old " } },
      { event: "agent_output", data: { ...at, variation_id: "var-1", sequence: 2, content: "text" } },
    ]);
    const after = applyEvents(before, [
      { event: "reset", data: { run_id: at.run_id, reason: "trimmed" } },
      { event: "agent_output", data: { ...at, variation_id: "var-1", sequence: 40, content: "kept" } },
    ]);
    expect(after.variations["var-1"]).toMatchObject({ output: "kept", gaps: [{ from: 1, to: 39 }] });
    expect(after.order).toEqual(["var-1"]);
    expect(after.resets).toBe(1);
  });
});
