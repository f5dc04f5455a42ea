"use client";

import { memo } from "react";
import { useFollow } from "@/hooks/use-follow";
import { ansiSegments } from "@/lib/ansi";
import { cn } from "@/lib/cn";
import { JumpToLatest } from "./jump-to-latest";
import type { LogLine } from "@/lib/stream-state";

/** Rendering thousands of rows per pane costs frames; the newest ones are what a live viewer reads. */
const VISIBLE_LINES = 500;

const LEVEL_STYLE: Record<LogLine["level"], string> = {
  debug: "text-zinc-500",
  info: "text-zinc-700 dark:text-zinc-300",
  warn: "text-amber-700 dark:text-amber-300",
  error: "text-red-700 dark:text-red-400",
};

/** A log line with its ANSI colours (agent CLIs colour their output for terminals). */
function AnsiText({ text }: { text: string }) {
  return ansiSegments(text).map((s, i) =>
    s.color || s.background || s.bold || s.italic || s.underline || s.dim ? (
      <span
        key={i}
        data-testid="ansi-segment"
        style={{
          color: s.color,
          backgroundColor: s.background,
          fontWeight: s.bold ? 600 : undefined,
          fontStyle: s.italic ? "italic" : undefined,
          textDecoration: s.underline ? "underline" : undefined,
          opacity: s.dim ? 0.7 : undefined,
        }}
      >
        {s.text}
      </span>
    ) : (
      s.text
    ),
  );
}

export const LogList = memo(function LogList({ logs }: { logs: LogLine[] }) {
  const hidden = Math.max(0, logs.length - VISIBLE_LINES);
  const shown = hidden > 0 ? logs.slice(hidden) : logs;
  const { ref, onScroll, following, unseen, jumpToLatest } = useFollow<HTMLOListElement>(logs.length);
  return (
    <div className="relative">
      <ol ref={ref} onScroll={onScroll} className="max-h-40 overflow-y-auto font-mono text-xs" data-testid="log-list" aria-label="Agent logs">
        {hidden > 0 && <li className="text-zinc-500">… {hidden} earlier lines</li>}
        {shown.map((line) => (
          <li key={line.sequence} className={cn("whitespace-pre-wrap", LEVEL_STYLE[line.level])} data-testid="log-line">
            <span className="text-zinc-400">{line.timestamp.slice(11, 19)}</span>{" "}
            <span className="uppercase">{line.level}</span> <AnsiText text={line.text} />
          </li>
        ))}
      </ol>
      {!following && <JumpToLatest unseen={unseen} what="log lines" onClick={jumpToLatest} />}
    </div>
  );
});
