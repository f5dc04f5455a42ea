"use client";

import { memo, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { useFollow } from "@/hooks/use-follow";
import { useThrottledValue } from "@/hooks/use-throttled-value";
import { TOGGLE_FOLLOW_EVENT } from "@/hooks/use-run-keys";
import { cn } from "@/lib/cn";
import { isTerminal } from "@/lib/events";
import type { VariationState } from "@/lib/stream-state";
import { LogList } from "./log-list";
import { MarkdownOutput } from "./markdown-output";
import { Elapsed, EventRate } from "./elapsed";
import { JumpToLatest } from "./jump-to-latest";
import { StatusChip } from "./status-chip";
import { VariationActions } from "./variation-actions";

/**
 * No reader follows more than ten updates a second of text scrolling by. Streamed at 1,000
 * chunks a second (e2e/long-output, traced), rendering every batch parsed 1,300-1,500 markdown
 * blocks on their way past the bottom of the pane and kept the main thread busy 96% of the
 * time; at ten renders a second only the blocks in view when each lands are parsed (800-900),
 * and it is busy 80% of the time.
 */
const OUTPUT_RENDER_INTERVAL_MS = 100;

const paneButton = "rounded px-1 text-zinc-500 hover:bg-zinc-100 hover:text-zinc-900 dark:hover:bg-zinc-800 dark:hover:text-zinc-100";

/** Missing messages are shown, not hidden: lost while an agent could not reach Redis, or trimmed. */
function describeGaps(gaps: readonly { from: number; to: number }[]): string {
  const missing = gaps.reduce((n, g) => n + g.to - g.from + 1, 0);
  const ranges = gaps.slice(0, 3).map((g) => (g.from === g.to ? `${g.from}` : `${g.from}–${g.to}`)).join(", ");
  return `${missing.toLocaleString("en")} message(s) missing (sequence ${ranges}${gaps.length > 3 ? ", …" : ""}): lost by the agent or trimmed from the run's history.`;
}

/**
 * `controls` and `winner` come from the run view (they need the run's state); `failure` is a
 * control that was not acknowledged in time.
 */
export const VariationPane = memo(function VariationPane({
  runId,
  variation,
  hiddenOnNarrow = false,
  selected = false,
  onSelect,
  agent,
  controls,
  winner,
  controlFailure,
}: {
  runId: string;
  variation: VariationState;
  /** On narrow screens the run page shows one pane at a time (tabs): this is not the one. */
  hiddenOnNarrow?: boolean;
  /** The pane `j`/`k` moved to: `f` and `/` act on it. */
  selected?: boolean;
  onSelect?: (variationId: string) => void;
  agent: string | null;
  controls?: ReactNode;
  winner?: ReactNode;
  controlFailure?: string | null;
}) {
  const tokens = variation.metrics.tokens;
  const unresponsive = variation.alive === false && !isTerminal(variation.status ?? undefined);
  // The text and its chunk count change together, so follow mode scrolls for what is shown.
  const latestOutput = useMemo(() => ({ text: variation.output, chunks: variation.outputChunks }), [variation.output, variation.outputChunks]);
  const shownOutput = useThrottledValue(latestOutput, OUTPUT_RENDER_INTERVAL_MS);
  const output = useFollow<HTMLDivElement>(shownOutput.chunks);
  const pane = useRef<HTMLElement | null>(null);
  const [collapsed, setCollapsed] = useState(false);
  const [fullscreen, setFullscreen] = useState(false);
  useEffect(() => {
    if (!fullscreen) return;
    const exit = (event: KeyboardEvent) => event.key === "Escape" && setFullscreen(false);
    window.addEventListener("keydown", exit);
    return () => window.removeEventListener("keydown", exit);
  }, [fullscreen]);
  const { following, setFollowing } = output;
  useEffect(() => {
    const element = pane.current;
    if (!element) return;
    const toggle = () => setFollowing(!following);
    element.addEventListener(TOGGLE_FOLLOW_EVENT, toggle);
    return () => element.removeEventListener(TOGGLE_FOLLOW_EVENT, toggle);
  }, [following, setFollowing]);
  return (
    <article
      ref={pane}
      tabIndex={-1}
      onFocus={() => onSelect?.(variation.variationId)}
      className={cn(
        "flex min-w-0 flex-col rounded-lg border border-zinc-200 bg-white outline-none dark:border-zinc-800 dark:bg-zinc-900",
        selected && "ring-2 ring-blue-500",
        hiddenOnNarrow && "max-md:hidden",
        fullscreen && "fixed inset-2 z-50 overflow-y-auto shadow-2xl",
      )}
      data-fullscreen={fullscreen || undefined}
      data-collapsed={collapsed || undefined}
      data-testid="variation-pane"
      data-variation-id={variation.variationId}
      data-selected={selected || undefined}
      aria-label={`Variation ${variation.variationId}${agent ? ` (${agent})` : ""}`}
    >
      <header className="flex flex-wrap items-center justify-between gap-2 border-b border-zinc-200 px-3 py-2 dark:border-zinc-800">
        <h3 className="font-mono text-sm font-semibold">
          {variation.variationId}
          {agent && (
            <span className="ml-2 font-sans text-xs font-normal text-zinc-500" data-testid="variation-agent">
              {agent}
            </span>
          )}
        </h3>
        <div className="flex items-center gap-2 text-xs text-zinc-600 dark:text-zinc-400">
          <Elapsed from={variation.startedAt} to={variation.endedAt} testId="variation-elapsed" />
          <EventRate sequence={variation.lastSequence} live={variation.startedAt !== null && !isTerminal(variation.status ?? undefined)} />
          <span data-testid="char-count">{variation.output.length.toLocaleString("en")} chars</span>
          {tokens !== undefined && <span data-testid="token-count">{tokens.toLocaleString("en")} tokens</span>}
          {unresponsive && (
            <span
              className="rounded-full bg-orange-100 px-2 py-0.5 font-medium text-orange-800 dark:bg-orange-900/40 dark:text-orange-200"
              data-testid="unresponsive"
              title={variation.lastSeen ? `No heartbeat since ${variation.lastSeen}` : "No heartbeat yet"}
            >
              unresponsive
            </span>
          )}
          <StatusChip status={variation.status} />
          <button
            type="button"
            onClick={() => setCollapsed((c) => !c)}
            className={paneButton}
            aria-expanded={!collapsed}
            aria-label={`${collapsed ? "Expand" : "Collapse"} ${variation.variationId}`}
            data-testid="collapse-pane"
          >
            {collapsed ? "▸" : "▾"}
          </button>
          <button
            type="button"
            onClick={() => setFullscreen((f) => !f)}
            className={paneButton}
            aria-pressed={fullscreen}
            aria-label={fullscreen ? `Exit fullscreen (Esc)` : `Show ${variation.variationId} fullscreen`}
            data-testid="fullscreen-pane"
          >
            {fullscreen ? "✕" : "⤢"}
          </button>
        </div>
        {(controls || winner) && (
          <div className="flex w-full items-center justify-between gap-2">
            {controls}
            {winner}
          </div>
        )}
      </header>
      {controlFailure && (
        <p role="alert" className="border-b border-amber-200 bg-amber-50 px-3 py-1.5 text-xs text-amber-900 dark:border-amber-900 dark:bg-amber-950 dark:text-amber-200" data-testid="control-failure">
          {controlFailure}
        </p>
      )}
      {variation.gaps.length > 0 && (
        <p role="status" className="border-b border-amber-200 bg-amber-50 px-3 py-1.5 text-xs text-amber-900 dark:border-amber-900 dark:bg-amber-950 dark:text-amber-200" data-testid="sequence-gap">
          {describeGaps(variation.gaps)}
        </p>
      )}
      {variation.error && (
        <p role="alert" className="border-b border-red-200 bg-red-50 px-3 py-2 text-xs whitespace-pre-wrap text-red-800 dark:border-red-900 dark:bg-red-950 dark:text-red-200" data-testid="variation-error">
          {variation.error}
        </p>
      )}
      <div className={cn("relative", collapsed && "hidden")}>
        <div ref={output.ref} onScroll={output.onScroll} onWheel={output.onWheel} className={cn("overflow-y-auto px-3 py-2", fullscreen ? "h-[60vh]" : "h-96")} data-testid="variation-output" data-following={output.following}>
          {shownOutput.text ? (
            <MarkdownOutput markdown={shownOutput.text} scrollRef={output.ref} following={output.following} onOwnScroll={output.markOwnScroll} />
          ) : (
            <p className="text-sm text-zinc-500">Waiting for output…</p>
          )}
        </div>
        {!output.following && <JumpToLatest unseen={output.unseen} what="output" onClick={output.jumpToLatest} />}
      </div>
      <div className={cn("border-t border-zinc-200 px-2 py-1 dark:border-zinc-800", collapsed && "hidden")}>
        <VariationActions runId={runId} variation={variation} />
      </div>
      <div className={cn("border-t border-zinc-200 px-3 py-2 dark:border-zinc-800", collapsed && "hidden")}>
        <LogList variationId={variation.variationId} logs={variation.logs} />
      </div>
    </article>
  );
});
