/**
 * What the logs panel shows: lines filtered by level, and searched. Pure, so it is
 * unit-tested; components/log-list.tsx renders it. Line numbers count every line the variation
 * logged (1-based), whatever the filter, so a link to a line stays right.
 *
 * Both the filter and the search are incremental. A stream adds lines at 1,000 a second to a
 * list that may hold 100,000: rebuilding per batch allocated an object per line, and with that
 * many young objects alive the browser's minor GCs took 40-100 ms each (traced while streaming).
 * A new `logs` list from lib/stream-state.ts is the previous one with lines appended (the same
 * objects), so only the new lines are looked at, and rows are plain numbers.
 */
import { ansiSegments } from "./ansi";
import { appendAll, emptyList, itemAt, type AppendList } from "./append-list";
import { LOG_LEVELS, type LogLevel } from "./events";
import type { LogLine } from "./stream-state";

export type LevelFilter = LogLevel | "all";

/** The lines a level filter lets through. */
export interface LogRows {
  logs: AppendList<LogLine>;
  level: LevelFilter;
  /** 1-based numbers of the lines shown, ascending. */
  numbers: AppendList<number>;
}

/** Matches of a search among the rows. */
export interface LogMatches {
  rows: LogRows;
  query: string;
  /** Numbers of the rows whose text contains the query, ascending. */
  numbers: AppendList<number>;
}

/**
 * Whether `logs` is `before` with lines appended. Lists from lib/stream-state.ts are either
 * that or new (a reset starts over with new line objects), so the ends of the old part decide.
 */
function appendsTo(logs: AppendList<LogLine>, before: AppendList<LogLine>): boolean {
  const n = before.length;
  return logs.length >= n && (n === 0 || (itemAt(logs, 0) === itemAt(before, 0) && itemAt(logs, n - 1) === itemAt(before, n - 1)));
}

/** Numbers of the lines from index `from` on that `keep` accepts. */
function numbersFrom(logs: AppendList<LogLine>, from: number, keep: (line: LogLine) => boolean): number[] {
  const out: number[] = [];
  for (let i = from; i < logs.length; i++) if (keep(itemAt(logs, i)!)) out.push(i + 1);
  return out;
}

/**
 * Lines at `min` or above (`warn` shows warn and error). Given the previous result, only lines
 * appended since are filtered; the same content returns `previous` itself, and new lines that
 * are all filtered out keep its numbers (so memos keyed on them hold).
 */
export function filterRows(logs: AppendList<LogLine>, min: LevelFilter, previous: LogRows | null = null): LogRows {
  const floor = min === "all" ? 0 : LOG_LEVELS.indexOf(min);
  const keep = (line: LogLine) => LOG_LEVELS.indexOf(line.level) >= floor;
  if (previous && previous.level === min && appendsTo(logs, previous.logs)) {
    if (logs.length === previous.logs.length) return previous;
    return { logs, level: min, numbers: appendAll(previous.numbers, numbersFrom(logs, previous.logs.length, keep)) };
  }
  return { logs, level: min, numbers: appendAll(emptyList(), numbersFrom(logs, 0, keep)) };
}

function plain(text: string): string {
  return ansiSegments(text).map((s) => s.text).join("");
}

/**
 * Rows whose text (colour codes aside) contains `query`, case-insensitively. Given the previous
 * result, only rows added since are searched (the ANSI parse per line is the costly part).
 */
export function findMatches(rows: LogRows, query: string, previous: LogMatches | null = null): LogMatches {
  const q = query.trim().toLowerCase();
  const matches = (from: number): number[] => {
    const out: number[] = [];
    for (let i = from; q && i < rows.numbers.length; i++) {
      const n = itemAt(rows.numbers, i)!;
      if (plain(itemAt(rows.logs, n - 1)!.text).toLowerCase().includes(q)) out.push(n);
    }
    return out;
  };
  const before = previous?.rows;
  if (previous && before && previous.query === q && before.level === rows.level && appendsTo(rows.logs, before.logs)) {
    if (rows === before) return previous;
    return { rows, query: q, numbers: appendAll(previous.numbers, matches(before.numbers.length)) };
  }
  return { rows, query: q, numbers: appendAll(emptyList(), matches(0)) };
}

/**
 * filterRows that remembers its last result, for a component to hold in state: each call then
 * looks at the lines added since the last one only.
 */
export function rowFilter(): (logs: AppendList<LogLine>, min: LevelFilter) => LogRows {
  let last: LogRows | null = null;
  return (logs, min) => (last = filterRows(logs, min, last));
}

/** findMatches that remembers its last result, as rowFilter does. */
export function matchFinder(): (rows: LogRows, query: string) => LogMatches {
  let last: LogMatches | null = null;
  return (rows, query) => (last = findMatches(rows, query, last));
}

/** Where line `n` is among the rows (-1 if the filter hides it): numbers are ascending. */
export function rowIndex(rows: LogRows, n: number): number {
  const { numbers } = rows;
  let low = 0;
  let high = numbers.length - 1;
  while (low <= high) {
    const mid = (low + high) >>> 1;
    const at = itemAt(numbers, mid)!;
    if (at === n) return mid;
    if (at < n) low = mid + 1;
    else high = mid - 1;
  }
  return -1;
}

/** `text` cut into pieces, marking where `query` occurs (case-insensitively). */
export function highlight(text: string, query: string): { text: string; match: boolean }[] {
  const q = query.trim().toLowerCase();
  if (!q) return [{ text, match: false }];
  const out: { text: string; match: boolean }[] = [];
  const lower = text.toLowerCase();
  let at = 0;
  for (let i = lower.indexOf(q); i >= 0; i = lower.indexOf(q, i + q.length)) {
    if (i > at) out.push({ text: text.slice(at, i), match: false });
    out.push({ text: text.slice(i, i + q.length), match: true });
    at = i + q.length;
  }
  if (at < text.length) out.push({ text: text.slice(at), match: false });
  return out;
}

/** `#v2-L120`: line 120 of var-2 (other variation ids are used whole: `#my-agent-L3`). */
export function lineAnchor(variationId: string, n: number): string {
  return `${variationId.replace(/^var-(\d+)$/, "v$1")}-L${n}`;
}

/** The line a URL hash points at, if it is one of this variation's. */
export function anchoredLine(hash: string, variationId: string): number | null {
  const match = /^#?(.+)-L(\d+)$/.exec(hash);
  if (!match || match[1] !== lineAnchor(variationId, 0).replace(/-L0$/, "")) return null;
  return Number(match[2]);
}
