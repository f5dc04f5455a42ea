"use client";

import { elementScroll, useVirtualizer } from "@tanstack/react-virtual";
import { memo, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import { useFollow } from "@/hooks/use-follow";
import { useThrottledValue } from "@/hooks/use-throttled-value";
import { itemAt, type AppendList } from "@/lib/append-list";
import { cn } from "@/lib/cn";
import { LOG_LEVELS } from "@/lib/events";
import { anchoredLine, lineAnchor, matchFinder, rowFilter, rowIndex, type LevelFilter } from "@/lib/log-view";
import type { LogLine } from "@/lib/stream-state";
import { JumpToLatest } from "./jump-to-latest";
import { LineText } from "./log-line-text";

/** No reader follows more than ten updates a second of a log scrolling by. */
const LOG_RENDER_INTERVAL_MS = 100;

/** Height of one unwrapped line (text-xs, leading 1rem); wrapped lines are measured. */
const LINE_PX = 16;

const LEVEL_STYLE: Record<LogLine["level"], string> = {
  debug: "text-zinc-500",
  info: "text-zinc-700 dark:text-zinc-300",
  warn: "text-amber-700 dark:text-amber-300",
  error: "text-red-700 dark:text-red-400",
};

const control = "rounded border border-zinc-300 bg-white px-1.5 py-0.5 text-xs dark:border-zinc-700 dark:bg-zinc-950";

export const LogList = memo(function LogList({ variationId, logs: latestLogs }: { variationId: string; logs: AppendList<LogLine> }) {
  // At thousands of lines a second, rendering every batch (up to 60 a second) of a 100,000-line
  // list kept the main thread busy: at most 10 renders a second, each with the newest lines.
  const logs = useThrottledValue(latestLogs, LOG_RENDER_INTERVAL_MS);
  const [level, setLevel] = useState<LevelFilter>("all");
  const [query, setQuery] = useState("");
  const [matchIndex, setMatchIndex] = useState(0);
  /** A line someone linked to (#v2-L120). */
  const [linked, setLinked] = useState<number | null>(null);
  const { ref, onScroll, onWheel, following, unseen, jumpToLatest, setFollowing, markOwnScroll } = useFollow<HTMLDivElement>(logs.length);

  // Incremental: each batch filters and searches only the lines it brought (lib/log-view.ts).
  const [filter] = useState(rowFilter);
  const [search] = useState(matchFinder);
  const rows = useMemo(() => filter(logs, level), [filter, logs, level]);
  const { numbers } = rows;
  const matches = useMemo(() => search(rows, query), [search, rows, query]).numbers;
  const current = matches.length > 0 ? itemAt(matches, Math.min(matchIndex, matches.length - 1))! : null;
  const target = current ?? linked;
  // The same function while the rows are: a new one makes the virtualizer recompute the offsets
  // of every line (100,000 map lookups), and it re-renders on every scroll frame.
  const getItemKey = useCallback((index: number) => itemAt(numbers, index)!, [numbers]);
  // Only the lines in view (plus a margin) are in the page: 100,000 lines cost what 40 do.
  const virtualizer = useVirtualizer({
    count: numbers.length,
    getScrollElement: () => ref.current,
    estimateSize: () => LINE_PX,
    overscan: 8,
    getItemKey,
    // A measured height re-renders with the next update rather than synchronously inside the
    // commit: at 1,000 lines a second, flushSync made every batch render twice in one task.
    useFlushSync: false,
    // Its own scrolling (keeping lines in place as wrapped ones are measured) is not the reader's.
    scrollToFn: (offset, options, instance) => {
      markOwnScroll();
      elementScroll(offset, options, instance);
    },
  });

  // Follow links to a line: on load and when the hash changes.
  useEffect(() => {
    const read = () => {
      const n = anchoredLine(window.location.hash, variationId);
      if (n === null) return;
      setLinked(n);
      setFollowing(false);
    };
    const frame = requestAnimationFrame(read);
    window.addEventListener("hashchange", read);
    return () => {
      cancelAnimationFrame(frame);
      window.removeEventListener("hashchange", read);
    };
  }, [variationId, setFollowing]);

  // Bring the current match or linked line into view inside the list (not the page), once: a
  // linked line may arrive after the page opened (the history is still streaming in).
  const shownTarget = useRef<number | null>(null);
  const targetIndex = target === null ? -1 : rowIndex(rows, target);
  useLayoutEffect(() => {
    if (targetIndex < 0 || shownTarget.current === target) return;
    shownTarget.current = target;
    virtualizer.scrollToIndex(targetIndex, { align: "center" });
  }, [target, targetIndex, virtualizer]);

  const step = (by: number) => {
    if (matches.length === 0) return;
    setFollowing(false);
    setMatchIndex((i) => (Math.min(i, matches.length - 1) + by + matches.length) % matches.length);
  };

  return (
    <div className="space-y-1">
      <div className="flex flex-wrap items-center gap-1.5" role="toolbar" aria-label={`Filter and search the logs of ${variationId}`}>
        <select value={level} onChange={(e) => setLevel(e.target.value as LevelFilter)} className={control} aria-label="Minimum log level" data-testid="log-level-filter">
          <option value="all">all levels</option>
          {LOG_LEVELS.filter((l) => l !== "debug").map((l) => (
            <option key={l} value={l}>
              {l}+
            </option>
          ))}
        </select>
        <input
          type="search"
          value={query}
          onChange={(e) => {
            setQuery(e.target.value);
            setMatchIndex(0);
            if (e.target.value.trim()) setFollowing(false);
          }}
          onKeyDown={(e) => {
            if (e.key === "Enter") step(e.shiftKey ? -1 : 1);
            if (e.key === "Escape") (e.target as HTMLInputElement).blur();
          }}
          placeholder="Search logs"
          className={cn(control, "w-32 flex-1")}
          aria-label={`Search the logs of ${variationId}`}
          data-testid="log-search"
        />
        {query.trim() && (
          <>
            <span className="text-xs text-zinc-600 tabular-nums dark:text-zinc-400" data-testid="log-match-count" aria-live="polite">
              {matches.length === 0 ? "no matches" : `${Math.min(matchIndex, matches.length - 1) + 1} of ${matches.length}`}
            </span>
            <button type="button" className={control} onClick={() => step(-1)} disabled={matches.length === 0} aria-label="Previous match" data-testid="log-match-prev">
              ↑
            </button>
            <button type="button" className={control} onClick={() => step(1)} disabled={matches.length === 0} aria-label="Next match" data-testid="log-match-next">
              ↓
            </button>
          </>
        )}
      </div>
      <div className="relative">
        <div ref={ref} onScroll={onScroll} onWheel={onWheel} className="max-h-40 overflow-y-auto font-mono text-xs" data-testid="log-list">
          <ol aria-label={`Logs of ${variationId}`} className="relative w-full" style={{ height: virtualizer.getTotalSize() }}>
            {virtualizer.getVirtualItems().map((item) => {
              const n = itemAt(numbers, item.index)!;
              const line = itemAt(rows.logs, n - 1)!;
              const anchor = lineAnchor(variationId, n);
              return (
                <li
                  key={item.key}
                  ref={virtualizer.measureElement}
                  data-index={item.index}
                  id={anchor}
                  data-line={n}
                  data-current={n === target || undefined}
                  className={cn("absolute top-0 left-0 flex w-full gap-2 whitespace-pre-wrap", LEVEL_STYLE[line.level], n === target && "bg-yellow-50 dark:bg-yellow-950/40")}
                  style={{ transform: `translateY(${item.start}px)` }}
                  data-testid="log-line"
                >
                  <a href={`#${anchor}`} className="w-10 shrink-0 text-right text-zinc-400 select-none hover:underline" aria-label={`Line ${n}: link`} data-testid="log-line-number">
                    {n}
                  </a>
                  <span className="min-w-0">
                    <span className="text-zinc-400">{line.timestamp.slice(11, 19)}</span> <span className="uppercase">{line.level}</span>{" "}
                    <LineText text={line.text} query={query} />
                  </span>
                </li>
              );
            })}
          </ol>
        </div>
        {!following && <JumpToLatest unseen={unseen} what="log lines" onClick={jumpToLatest} />}
      </div>
    </div>
  );
});
