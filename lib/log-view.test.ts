import { describe, expect, it } from "vitest";
import { anchoredLine, filterRows, findMatches, highlight, lineAnchor } from "./log-view";
import type { LogLine } from "./stream-state";

const line = (sequence: number, level: LogLine["level"], text: string): LogLine => ({ sequence, timestamp: "2026-11-23T10:30:00.000Z", level, text });
const logs = [line(1, "debug", "boot"), line(2, "info", "Fetching \u001b[1mrepo\u001b[0m"), line(3, "warn", "slow REPO"), line(4, "error", "repo failed"), line(5, "info", "done")];

describe("log view", () => {
  it("filters by minimum level, keeping each line's number among all lines", () => {
    expect(filterRows(logs, "all").map((r) => r.n)).toEqual([1, 2, 3, 4, 5]);
    expect(filterRows(logs, "warn").map((r) => r.n)).toEqual([3, 4]);
    expect(filterRows(logs, "info").map((r) => r.n)).toEqual([2, 3, 4, 5]);
  });

  it("finds a query case-insensitively, ignoring colour codes, within the filter", () => {
    expect(findMatches(filterRows(logs, "all"), "repo")).toEqual([2, 3, 4]);
    expect(findMatches(filterRows(logs, "warn"), "repo")).toEqual([3, 4]);
    expect(findMatches(filterRows(logs, "all"), "  ")).toEqual([]);
    // An escape code between letters must not hide a match, nor make one.
    expect(findMatches(filterRows(logs, "all"), "1mrepo")).toEqual([]);
  });

  it("marks every occurrence of the query", () => {
    expect(highlight("Repo and repo", "REPO")).toEqual([
      { text: "Repo", match: true },
      { text: " and ", match: false },
      { text: "repo", match: true },
    ]);
    expect(highlight("nothing", "x")).toEqual([{ text: "nothing", match: false }]);
  });

  it("links lines as #v2-L120 and reads such links back for the right variation only", () => {
    expect(lineAnchor("var-2", 120)).toBe("v2-L120");
    expect(anchoredLine("#v2-L120", "var-2")).toBe(120);
    expect(anchoredLine("#v2-L120", "var-1")).toBeNull();
    expect(lineAnchor("my-agent", 3)).toBe("my-agent-L3");
    expect(anchoredLine("#my-agent-L3", "my-agent")).toBe(3);
    expect(anchoredLine("#nothing", "var-2")).toBeNull();
  });
});
