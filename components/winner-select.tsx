"use client";

import { useState } from "react";
import { z } from "zod";
import { cn } from "@/lib/cn";
import { runSchema, type Run } from "@/lib/events";
import { apiUrls } from "@/lib/urls";

const selectResponseSchema = z.object({ run: runSchema });

/** POST the choice; the updated run, or an Error carrying the API's own message. */
async function postWinner(runId: string, variationId: string): Promise<Run> {
  const response = await fetch(apiUrls.select(runId), {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ winning_variation_id: variationId }),
  });
  const body: unknown = await response.json().catch(() => null);
  if (!response.ok) {
    const message = (body as { error?: { message?: string } } | null)?.error?.message;
    throw new Error(message ?? `The server answered ${response.status}`);
  }
  const parsed = selectResponseSchema.safeParse(body);
  if (!parsed.success) throw new Error("The server's answer could not be read");
  return parsed.data.run;
}

export interface SelectWinnerButtonProps {
  runId: string;
  variationId: string;
  /** Every variation has finished; before that a variation still running might yet do better. */
  runComplete: boolean;
  /** The run's current winner, if one was chosen. */
  winner: string | null;
  onSelected: (run: Run) => void;
}

/**
 * "Select as winner" on a variation, or its "Winner" badge once chosen. Another variation stays
 * selectable after a choice: a user may change their mind.
 */
export function SelectWinnerButton({ runId, variationId, runComplete, winner, onSelected }: SelectWinnerButtonProps) {
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<string | null>(null);

  if (winner === variationId) return <WinnerBadge />;

  async function select() {
    setPending(true);
    setError(null);
    try {
      onSelected(await postWinner(runId, variationId));
    } catch (cause) {
      setError(`Could not select ${variationId}: ${(cause as Error).message}`);
    } finally {
      setPending(false);
    }
  }

  return (
    <span className="inline-flex flex-col items-start gap-1">
      <button
        type="button"
        onClick={() => void select()}
        disabled={!runComplete || pending}
        title={runComplete ? undefined : "Available once every variation has finished"}
        aria-label={`Select ${variationId} as winner`}
        className={cn(
          "rounded-md border border-zinc-300 px-2 py-0.5 text-xs font-medium hover:bg-zinc-50 dark:border-zinc-700 dark:hover:bg-zinc-800",
          "disabled:cursor-not-allowed disabled:opacity-50 disabled:hover:bg-transparent",
        )}
        data-testid="select-winner"
      >
        {pending ? "Selecting…" : "Select as winner"}
      </button>
      {error && (
        <span role="alert" className="text-xs text-red-700 dark:text-red-400" data-testid="select-winner-error">
          {error}
        </span>
      )}
    </span>
  );
}

export function WinnerBadge({ className }: { className?: string }) {
  return (
    <span
      className={cn("inline-flex items-center rounded-full bg-amber-100 px-2 py-0.5 text-xs font-medium text-amber-800 dark:bg-amber-900/40 dark:text-amber-200", className)}
      data-testid="winner-badge"
    >
      Winner
    </span>
  );
}
