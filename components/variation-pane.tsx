"use client";

import { memo } from "react";
import { useStickToBottom } from "@/hooks/use-stick-to-bottom";
import type { VariationState } from "@/lib/stream-state";
import { LogList } from "./log-list";
import { MarkdownOutput } from "./markdown-output";
import { StatusChip } from "./status-chip";

/** Missing messages are shown, not hidden: lost while an agent could not reach Redis, or trimmed. */
function describeGaps(gaps: readonly { from: number; to: number }[]): string {
  const missing = gaps.reduce((n, g) => n + g.to - g.from + 1, 0);
  const ranges = gaps.slice(0, 3).map((g) => (g.from === g.to ? `${g.from}` : `${g.from}–${g.to}`)).join(", ");
  return `${missing.toLocaleString("en")} message(s) missing (sequence ${ranges}${gaps.length > 3 ? ", …" : ""}): lost by the agent or trimmed from the run's history.`;
}

export const VariationPane = memo(function VariationPane({ variation }: { variation: VariationState }) {
  const tokens = variation.metrics.tokens;
  const output = useStickToBottom<HTMLDivElement>(variation.output.length);
  return (
    <article
      className="flex min-w-0 flex-col rounded-lg border border-zinc-200 bg-white dark:border-zinc-800 dark:bg-zinc-900"
      data-testid="variation-pane"
      data-variation-id={variation.variationId}
      aria-label={`Variation ${variation.variationId}`}
    >
      <header className="flex items-center justify-between gap-2 border-b border-zinc-200 px-3 py-2 dark:border-zinc-800">
        <h3 className="font-mono text-sm font-semibold">{variation.variationId}</h3>
        <div className="flex items-center gap-2 text-xs text-zinc-600 dark:text-zinc-400">
          <span data-testid="char-count">{variation.output.length.toLocaleString("en")} chars</span>
          {tokens !== undefined && <span data-testid="token-count">{tokens.toLocaleString("en")} tokens</span>}
          <StatusChip status={variation.status} />
        </div>
      </header>
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
      <div ref={output.ref} onScroll={output.onScroll} className="h-96 overflow-y-auto px-3 py-2" data-testid="variation-output">
        {variation.output ? (
          <MarkdownOutput markdown={variation.output} />
        ) : (
          <p className="text-sm text-zinc-500">Waiting for output…</p>
        )}
      </div>
      <div className="border-t border-zinc-200 px-3 py-2 dark:border-zinc-800">
        <LogList logs={variation.logs} />
      </div>
    </article>
  );
});
