"use client";

import Link from "next/link";
import { useState } from "react";
import { cn } from "@/lib/cn";
import { useRuns } from "@/hooks/use-runs";

function age(createdAt: string): string {
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(createdAt)) / 1000));
  if (seconds < 60) return `${seconds}s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h ago`;
  return `${Math.floor(seconds / 86400)}d ago`;
}

const FILTERS = ["all", "running", "completed"] as const;
type Filter = (typeof FILTERS)[number];

export function RunsList() {
  const { data: runs, error, isLoading } = useRuns();
  const [filter, setFilter] = useState<Filter>("all");
  if (error) {
    return (
      <p role="alert" className="text-sm text-red-600 dark:text-red-400">
        Could not load runs: {error.message}
      </p>
    );
  }
  if (isLoading || !runs) return <p className="text-sm text-zinc-500">Loading runs…</p>;
  if (runs.length === 0) {
    return (
      <p className="rounded-lg border border-dashed border-zinc-300 p-6 text-sm text-zinc-600 dark:border-zinc-700 dark:text-zinc-400" data-testid="runs-empty">
        No runs yet. Press <strong>Start run</strong> with the <code>demo</code> agent to watch three variations stream side by
        side; pick <code>echo</code> for the example command agent, or add your own agent CLI to <code>runwatch.presets.jsonc</code>.
      </p>
    );
  }
  const shown = filter === "all" ? runs : runs.filter((r) => r.status === filter);
  return (
    <div className="space-y-2">
      <div className="flex gap-1" role="group" aria-label="Show runs by status">
        {FILTERS.map((f) => (
          <button
            key={f}
            type="button"
            onClick={() => setFilter(f)}
            aria-pressed={filter === f}
            className={cn(
              "rounded-full border px-2.5 py-0.5 text-xs",
              filter === f ? "border-blue-600 bg-blue-600 text-white" : "border-zinc-300 hover:bg-zinc-100 dark:border-zinc-700 dark:hover:bg-zinc-800",
            )}
            data-testid={`runs-filter-${f}`}
          >
            {f} ({(f === "all" ? runs : runs.filter((r) => r.status === f)).length})
          </button>
        ))}
      </div>
      {shown.length === 0 && (
        <p className="text-sm text-zinc-500" data-testid="runs-filter-empty">
          No {filter} runs.
        </p>
      )}
      <ul className="divide-y divide-zinc-200 rounded-lg border border-zinc-200 bg-white dark:divide-zinc-800 dark:border-zinc-800 dark:bg-zinc-900" data-testid="runs-list">
        {shown.map((run) => (
          <li key={run.run_id}>
            <Link href={`/runs/${run.run_id}`} className="flex flex-wrap items-center gap-x-3 gap-y-1 px-4 py-3 hover:bg-zinc-50 dark:hover:bg-zinc-800/50">
              <span className="font-mono text-xs text-zinc-500">{run.run_id}</span>
              <span className="min-w-[10rem] flex-1 truncate text-sm">{run.prompt}</span>
              <span className="text-xs text-zinc-500">{run.variations.length} var.</span>
              {run.winner && (
                <span className="rounded-full bg-amber-100 px-2 py-0.5 text-xs font-medium text-amber-800 dark:bg-amber-900/40 dark:text-amber-200" data-testid="run-winner">
                  winner: {run.winner}
                </span>
              )}
              <span
                className={run.status === "completed" ? "text-xs text-green-700 dark:text-green-400" : "text-xs text-blue-700 dark:text-blue-300"}
                data-testid="run-list-status"
                data-status={run.status}
              >
                {run.status}
              </span>
              <span className="w-16 text-right text-xs text-zinc-500">{age(run.created_at)}</span>
            </Link>
          </li>
        ))}
      </ul>
    </div>
  );
}
