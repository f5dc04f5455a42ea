"use client";

import Link from "next/link";
import { useRuns } from "@/hooks/use-runs";

function age(createdAt: string): string {
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(createdAt)) / 1000));
  if (seconds < 60) return `${seconds}s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h ago`;
  return `${Math.floor(seconds / 86400)}d ago`;
}

export function RunsList() {
  const { data: runs, error, isLoading } = useRuns();
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
        No runs yet. Press <strong>Start run</strong> with the <code>demo</code> agent to watch three variations stream side by side.
      </p>
    );
  }
  return (
    <ul className="divide-y divide-zinc-200 rounded-lg border border-zinc-200 bg-white dark:divide-zinc-800 dark:border-zinc-800 dark:bg-zinc-900" data-testid="runs-list">
      {runs.map((run) => (
        <li key={run.run_id}>
          <Link href={`/runs/${run.run_id}`} className="flex items-center gap-3 px-4 py-3 hover:bg-zinc-50 dark:hover:bg-zinc-800/50">
            <span className="font-mono text-xs text-zinc-500">{run.run_id}</span>
            <span className="min-w-0 flex-1 truncate text-sm">{run.prompt}</span>
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
  );
}
