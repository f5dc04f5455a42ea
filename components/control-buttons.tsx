"use client";

import type { VariationControlState } from "@/hooks/use-run-control";
import { cn } from "@/lib/cn";
import { isTerminal, type ControlAction, type VariationStatus } from "@/lib/events";

const ING: Record<ControlAction, string> = { pause: "Pausing…", resume: "Resuming…", stop: "Stopping…" };

const button =
  "rounded-md border border-zinc-300 px-2 py-0.5 text-xs font-medium hover:bg-zinc-100 disabled:cursor-not-allowed disabled:opacity-50 dark:border-zinc-700 dark:hover:bg-zinc-800";

/** Pause/Resume and Stop for one variation; nothing once it has finished. */
export function VariationControls({
  variationId,
  status,
  control,
  onAction,
}: {
  variationId: string;
  status: VariationStatus | null;
  control: VariationControlState;
  onAction: (action: ControlAction) => void;
}) {
  if (isTerminal(status ?? undefined)) return null;
  const paused = status === "paused";
  return (
    <div className="flex items-center gap-1.5" role="group" aria-label={`Control ${variationId}`}>
      {control.pending ? (
        <span className="text-xs text-zinc-600 dark:text-zinc-400" role="status" data-testid="control-pending" data-action={control.pending}>
          {ING[control.pending]}
        </span>
      ) : null}
      <button
        type="button"
        className={button}
        disabled={control.pending !== null}
        onClick={() => onAction(paused ? "resume" : "pause")}
        aria-label={`${paused ? "Resume" : "Pause"} ${variationId}`}
        data-testid={paused ? "resume-variation" : "pause-variation"}
      >
        {paused ? "Resume" : "Pause"}
      </button>
      <button
        type="button"
        className={cn(button, "text-red-700 dark:text-red-400")}
        disabled={control.pending === "stop"}
        onClick={() => onAction("stop")}
        aria-label={`Stop ${variationId}`}
        data-testid="stop-variation"
      >
        Stop
      </button>
    </div>
  );
}

/** The same for every variation still at work. */
export function RunControls({ anyPaused, onAction }: { anyPaused: boolean; onAction: (action: ControlAction) => void }) {
  return (
    <div className="flex items-center gap-1.5" role="group" aria-label="Control the whole run">
      <button type="button" className={button} onClick={() => onAction("pause")} data-testid="pause-run">
        Pause all
      </button>
      {anyPaused && (
        <button type="button" className={button} onClick={() => onAction("resume")} data-testid="resume-run">
          Resume all
        </button>
      )}
      <button type="button" className={cn(button, "text-red-700 dark:text-red-400")} onClick={() => onAction("stop")} data-testid="stop-run">
        Stop all
      </button>
    </div>
  );
}
