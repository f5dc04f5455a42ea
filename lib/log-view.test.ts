import { describe, expect, it } from "vitest";
import { anchoredLine, filterRows, findMatches, highlight, lineAnchor, matchFinder, rowFilter, rowIndex } from "./log-view";
import type { LogLine } from "./stream-state";

const line = (sequence: number, level: LogLine["level"], text: string): LogLine => ({ sequence, timestamp: "2026-11-23T10:30:00.000Z", level, text });
const logs = [line(1, "debug", "boot"), line(2, "info", "Fetching \u001b[1mrepo\u001b[0m"), line(3, "warn", "slow REPO"), line(4, "error", "repo failed"), line(5, "info", "done")];
/** What lib/stream-state.ts does per batch: a copy of the array with lines pushed onto it. */
const appended = (before: readonly LogLine[], ...more: LogLine[]): LogLine[] => [...before, ...more];

describe("log view", () => {
  it("filters by minimum level, keeping each line's number among all lines", () => {
    expect(filterRows(logs, "all").numbers).toEqual([1, 2, 3, 4, 5]);
    expect(filterRows(logs, "warn").numbers).toEqual([3, 4]);
    expect(filterRows(logs, "info").numbers).toEqual([2, 3, 4, 5]);
  });

  it("extends the previous rows when lines were appended, as a fresh filter would", () => {
    const first = logs.slice(0, 3);
    const before = filterRows(first, "info");
    const after = filterRows(appended(first, ...logs.slice(3)), "info", before);
    expect(after.numbers).toEqual([2, 3, 4, 5]);
    expect(after.numbers).toEqual(filterRows(logs, "info").numbers);
    // Nothing new, or nothing new that passes: the same result or the same numbers, so memos hold.
    expect(filterRows(appended(first), "info", before)).toBe(before);
    expect(filterRows(appended(first, line(6, "debug", "x")), "info", before).numbers).toBe(before.numbers);
  });

  it("starts over when the lines were replaced or the level changed", () => {
    const before = filterRows(logs, "all");
    // A reset: new line objects, even where the text is the same.
    const replaced = [line(1, "error", "boot"), line(2, "info", "again"), ...logs.slice(2).map((l) => ({ ...l })), line(6, "debug", "new")];
    expect(filterRows(replaced, "warn", filterRows(logs, "warn")).numbers).toEqual([1, 3, 4]);
    expect(filterRows(logs.slice(0, 2), "all", before).numbers).toEqual([1, 2]);
    expect(filterRows(logs, "error", before).numbers).toEqual([4]);
  });

  it("finds a query case-insensitively, ignoring colour codes, within the filter", () => {
    expect(findMatches(filterRows(logs, "all"), "repo").numbers).toEqual([2, 3, 4]);
    expect(findMatches(filterRows(logs, "warn"), "repo").numbers).toEqual([3, 4]);
    expect(findMatches(filterRows(logs, "all"), "  ").numbers).toEqual([]);
    // An escape code between letters must not hide a match, nor make one.
    expect(findMatches(filterRows(logs, "all"), "1mrepo").numbers).toEqual([]);
  });

  it("searches only the rows added since the last search, and starts over for a new query or filter", () => {
    const find = matchFinder();
    const filter = rowFilter();
    const first = logs.slice(0, 2);
    expect(find(filter(first, "all"), "repo").numbers).toEqual([2]);
    const more = appended(first, ...logs.slice(2));
    expect(find(filter(more, "all"), "repo").numbers).toEqual([2, 3, 4]);
    // Only the new line is read: an old one edited in place (the stream never does) is not seen.
    more[0] = { ...more[0]!, text: "repo" };
    more[3] = { ...more[3]!, text: "gone" };
    const rows = filter(appended(more, line(6, "info", "repo again")), "all");
    expect(find(rows, "repo").numbers).toEqual([2, 3, 4, 6]);
    expect(find(rows, "again").numbers).toEqual([6]);
    // Another filter searches every line again, and sees the edit.
    expect(find(filter(rows.logs, "warn"), "repo").numbers).toEqual([3]);
    expect(find(filter(rows.logs, "warn"), "").numbers).toEqual([]);
  });

  it("finds a line among the rows, or says the filter hides it", () => {
    const rows = filterRows(logs, "info");
    expect(rowIndex(rows, 2)).toBe(0);
    expect(rowIndex(rows, 4)).toBe(2);
    expect(rowIndex(rows, 5)).toBe(3);
    expect(rowIndex(rows, 1)).toBe(-1);
    expect(rowIndex(rows, 9)).toBe(-1);
    expect(rowIndex(filterRows([], "all"), 1)).toBe(-1);
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
