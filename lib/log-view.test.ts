import { describe, expect, it } from "vitest";
import { appendAll, emptyList, toArray, type AppendList } from "./append-list";
import { anchoredLine, filterRows, findMatches, highlight, lineAnchor, matchFinder, rowFilter, rowIndex } from "./log-view";
import type { LogLine } from "./stream-state";

const line = (sequence: number, level: LogLine["level"], text: string): LogLine => ({ sequence, timestamp: "2026-11-23T10:30:00.000Z", level, text });
const list = (lines: readonly LogLine[]): AppendList<LogLine> => appendAll(emptyList(), lines);
const lines = [line(1, "debug", "boot"), line(2, "info", "Fetching \u001b[1mrepo\u001b[0m"), line(3, "warn", "slow REPO"), line(4, "error", "repo failed"), line(5, "info", "done")];
const logs = list(lines);
/** What lib/stream-state.ts does per batch. */
const appended = (before: AppendList<LogLine>, ...more: LogLine[]) => appendAll(before, more);
const numbers = (l: { numbers: AppendList<number> }) => toArray(l.numbers);

describe("log view", () => {
  it("filters by minimum level, keeping each line's number among all lines", () => {
    expect(numbers(filterRows(logs, "all"))).toEqual([1, 2, 3, 4, 5]);
    expect(numbers(filterRows(logs, "warn"))).toEqual([3, 4]);
    expect(numbers(filterRows(logs, "info"))).toEqual([2, 3, 4, 5]);
  });

  it("extends the previous rows when lines were appended, as a fresh filter would", () => {
    const first = list(lines.slice(0, 3));
    const before = filterRows(first, "info");
    const after = filterRows(appended(first, ...lines.slice(3)), "info", before);
    expect(numbers(after)).toEqual([2, 3, 4, 5]);
    expect(numbers(after)).toEqual(numbers(filterRows(logs, "info")));
    // Nothing new, or nothing new that passes: the same result or the same numbers, so memos hold.
    expect(filterRows(appended(first), "info", before)).toBe(before);
    expect(filterRows(appended(first, line(6, "debug", "x")), "info", before).numbers).toBe(before.numbers);
  });

  it("starts over when the lines were replaced or the level changed", () => {
    const before = filterRows(logs, "all");
    // A reset: new line objects, even where the text is the same.
    const replaced = list([line(1, "error", "boot"), line(2, "info", "again"), ...lines.slice(2).map((l) => ({ ...l })), line(6, "debug", "new")]);
    expect(numbers(filterRows(replaced, "warn", filterRows(logs, "warn")))).toEqual([1, 3, 4]);
    expect(numbers(filterRows(list(lines.slice(0, 2)), "all", before))).toEqual([1, 2]);
    expect(numbers(filterRows(logs, "error", before))).toEqual([4]);
  });

  it("finds a query case-insensitively, ignoring colour codes, within the filter", () => {
    expect(numbers(findMatches(filterRows(logs, "all"), "repo"))).toEqual([2, 3, 4]);
    expect(numbers(findMatches(filterRows(logs, "warn"), "repo"))).toEqual([3, 4]);
    expect(numbers(findMatches(filterRows(logs, "all"), "  "))).toEqual([]);
    // An escape code between letters must not hide a match, nor make one.
    expect(numbers(findMatches(filterRows(logs, "all"), "1mrepo"))).toEqual([]);
  });

  it("searches only the rows added since the last search, and starts over for a new query or filter", () => {
    let reads = 0;
    /** A line that counts how often its text is read. */
    const counted = (n: number, level: LogLine["level"], text: string): LogLine =>
      Object.defineProperty(line(n, level, ""), "text", {
        get: () => {
          reads += 1;
          return text;
        },
      });
    const find = matchFinder();
    const filter = rowFilter();
    const first = list([counted(1, "info", "repo one"), counted(2, "warn", "other")]);
    expect(numbers(find(filter(first, "all"), "repo"))).toEqual([1]);
    expect(reads).toBe(2);
    const more = appended(first, counted(3, "warn", "Repo three"));
    expect(numbers(find(filter(more, "all"), "repo"))).toEqual([1, 3]);
    expect(reads).toBe(3); // the new line only
    expect(numbers(find(filter(more, "all"), "other"))).toEqual([2]);
    expect(reads).toBe(6); // a new query reads every line again
    expect(numbers(find(filter(more, "warn"), "repo"))).toEqual([3]);
    expect(numbers(find(filter(more, "warn"), ""))).toEqual([]);
  });

  it("finds a line among the rows, or says the filter hides it", () => {
    const rows = filterRows(logs, "info");
    expect(rowIndex(rows, 2)).toBe(0);
    expect(rowIndex(rows, 4)).toBe(2);
    expect(rowIndex(rows, 5)).toBe(3);
    expect(rowIndex(rows, 1)).toBe(-1);
    expect(rowIndex(rows, 9)).toBe(-1);
    expect(rowIndex(filterRows(emptyList(), "all"), 1)).toBe(-1);
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
