import { cn } from "@/lib/cn";
import type { VariationStatus } from "@/lib/events";

const STYLES: Record<VariationStatus | "pending", string> = {
  pending: "bg-zinc-100 text-zinc-600 dark:bg-zinc-800 dark:text-zinc-300",
  starting: "bg-amber-100 text-amber-800 dark:bg-amber-900/40 dark:text-amber-200",
  running: "bg-blue-100 text-blue-800 dark:bg-blue-900/40 dark:text-blue-200",
  resumed: "bg-blue-100 text-blue-800 dark:bg-blue-900/40 dark:text-blue-200",
  paused: "bg-violet-100 text-violet-800 dark:bg-violet-900/40 dark:text-violet-200",
  stopped: "bg-zinc-200 text-zinc-800 dark:bg-zinc-700 dark:text-zinc-100",
  completed: "bg-green-100 text-green-800 dark:bg-green-900/40 dark:text-green-200",
  failed: "bg-red-100 text-red-800 dark:bg-red-900/40 dark:text-red-200",
};

export function StatusChip({ status, className }: { status: VariationStatus | null; className?: string }) {
  const label = status ?? "pending";
  // "resumed" is an acknowledgement; to a reader the variation is simply running again.
  const text = label === "resumed" ? "running" : label;
  return (
    <span
      className={cn("inline-flex items-center rounded-full px-2 py-0.5 text-xs font-medium", STYLES[label], className)}
      data-testid="status-chip"
      // Screen readers hear a variation finish or pause without having to look.
      aria-live="polite"
      data-status={label}
    >
      {text}
    </span>
  );
}
