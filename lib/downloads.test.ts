import { describe, expect, it } from "vitest";
import { logsAsJsonLines, logsAsText, logsFileName, outputFileName } from "./downloads";
import type { LogLine } from "./stream-state";

const logs: LogLine[] = [
  { sequence: 3, timestamp: "2026-11-23T10:30:00.000Z", level: "info", text: "Thinking" },
  { sequence: 7, timestamp: "2026-11-23T10:30:01.500Z", level: "warn", text: "slow \"tool\"\tcall" },
];

describe("downloads", () => {
  it("names files after the run and the variation", () => {
    expect(outputFileName("run-0123456789ab", "var-2")).toBe("run-0123456789ab-var-2.md");
    expect(logsFileName("run-0123456789ab", "var-2", "text")).toBe("run-0123456789ab-var-2.log");
    expect(logsFileName("run-0123456789ab", "var-2", "jsonl")).toBe("run-0123456789ab-var-2.jsonl");
  });

  it("writes logs as terminal lines, and as JSON lines that parse back to the same values", () => {
    expect(logsAsText(logs)).toBe('2026-11-23T10:30:00.000Z INFO Thinking\n2026-11-23T10:30:01.500Z WARN slow "tool"\tcall\n');
    const parsed = logsAsJsonLines(logs).trimEnd().split("\n").map((line) => JSON.parse(line) as unknown);
    expect(parsed).toEqual([
      { timestamp: "2026-11-23T10:30:00.000Z", level: "info", sequence: 3, text: "Thinking" },
      { timestamp: "2026-11-23T10:30:01.500Z", level: "warn", sequence: 7, text: 'slow "tool"\tcall' },
    ]);
    expect(logsAsText([])).toBe("");
  });
});
