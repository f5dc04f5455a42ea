/**
 * What the logs panel shows: lines filtered by level, and searched. Pure, so it is
 * unit-tested; components/log-list.tsx renders it. Line numbers count every line the variation
 * logged (1-based), whatever the filter, so a link to a line stays right.
 */
import { ansiSegments } from "./ansi";
import { LOG_LEVELS, type LogLevel } from "./events";
import type { LogLine } from "./stream-state";

export interface Row {
  /** 1-based number among all the variation's lines. */
  n: number;
  line: LogLine;
}

export type LevelFilter = LogLevel | "all";

/** Lines at `min` or above (`warn` shows warn and error). */
export function filterRows(logs: readonly LogLine[], min: LevelFilter): Row[] {
  const floor = min === "all" ? 0 : LOG_LEVELS.indexOf(min);
  const rows: Row[] = [];
  logs.forEach((line, i) => {
    if (LOG_LEVELS.indexOf(line.level) >= floor) rows.push({ n: i + 1, line });
  });
  return rows;
}

function plain(text: string): string {
  return ansiSegments(text).map((s) => s.text).join("");
}

/** Numbers of the rows whose text (colour codes aside) contains `query`, case-insensitively. */
export function findMatches(rows: readonly Row[], query: string): number[] {
  const q = query.trim().toLowerCase();
  if (!q) return [];
  return rows.filter((r) => plain(r.line.text).toLowerCase().includes(q)).map((r) => r.n);
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
