"use client";

import { useDeferredValue, useMemo, useState } from "react";
import { compareOutputs, type ComparePiece } from "@/lib/compare";
import type { VariationState } from "@/lib/stream-state";

function Side({ id, pieces, testId }: { id: string; pieces: ComparePiece[]; testId: string }) {
  return (
    <section className="min-w-0 rounded-md border border-zinc-200 dark:border-zinc-800" aria-label={`Output of ${id}`} data-testid={testId}>
      <h3 className="border-b border-zinc-200 px-3 py-1.5 font-mono text-xs font-semibold dark:border-zinc-800">{id}</h3>
      <pre className="max-h-[32rem] overflow-auto px-3 py-2 text-xs whitespace-pre-wrap">
        {pieces.map((p, i) =>
          p.changed ? (
            <mark key={i} className="rounded-sm bg-amber-200 text-inherit dark:bg-amber-700/60" data-testid="compare-diff">
              {p.text}
            </mark>
          ) : (
            <span key={i}>{p.text}</span>
          ),
        )}
      </pre>
    </section>
  );
}

const select = "rounded-md border border-zinc-300 bg-white px-2 py-1 text-xs dark:border-zinc-700 dark:bg-zinc-950";

/**
 * Two variations' markdown side by side, words only one of them has marked. Live: it follows
 * the outputs as they stream.
 */
export function CompareView({ order, variations, onClose }: { order: readonly string[]; variations: Record<string, VariationState>; onClose: () => void }) {
  const [leftId, setLeftId] = useState(order[0] ?? "");
  const [rightId, setRightId] = useState(order[1] ?? order[0] ?? "");
  // Deferred: while outputs stream, the diff is redone when React has time, not per chunk.
  const left = useDeferredValue(variations[leftId]?.output ?? "");
  const right = useDeferredValue(variations[rightId]?.output ?? "");
  const comparison = useMemo(() => compareOutputs(left, right), [left, right]);
  const choose = (value: string, set: (id: string) => void, label: string, testId: string) => (
    <select value={value} onChange={(e) => set(e.target.value)} className={select} aria-label={label} data-testid={testId}>
      {order.map((id) => (
        <option key={id} value={id}>
          {id}
        </option>
      ))}
    </select>
  );
  return (
    <div className="space-y-2 rounded-lg border border-zinc-200 bg-white p-3 dark:border-zinc-800 dark:bg-zinc-900" data-testid="compare-view" role="region" aria-label="Compare two variations">
      <div className="flex flex-wrap items-center gap-2 text-sm">
        <span className="font-medium">Compare</span>
        {choose(leftId, setLeftId, "Left variation", "compare-left-select")}
        <span>with</span>
        {choose(rightId, setRightId, "Right variation", "compare-right-select")}
        <span className="text-xs text-zinc-600 dark:text-zinc-400" data-testid="compare-similarity">
          {comparison.similarity === null ? "too long and different to mark quickly: shown unmarked" : `${Math.round(comparison.similarity * 100)}% of words in common`}
        </span>
        <button type="button" onClick={onClose} className="ml-auto rounded-md px-2 py-0.5 text-xs hover:bg-zinc-100 dark:hover:bg-zinc-800" data-testid="compare-close">
          Close
        </button>
      </div>
      <div className="grid gap-3 md:grid-cols-2">
        <Side id={leftId} pieces={comparison.left} testId="compare-left" />
        <Side id={rightId} pieces={comparison.right} testId="compare-right" />
      </div>
    </div>
  );
}
