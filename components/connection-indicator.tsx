import type { ConnectionStatus } from "@/hooks/use-agent-stream";
import { cn } from "@/lib/cn";

const DOT: Record<ConnectionStatus, string> = {
  connecting: "bg-amber-400 animate-pulse",
  live: "bg-green-500",
  reconnecting: "bg-orange-500 animate-pulse",
  closed: "bg-zinc-400",
};

export function ConnectionIndicator({ status }: { status: ConnectionStatus }) {
  return (
    <span
      className="inline-flex items-center gap-1.5 text-xs text-zinc-600 dark:text-zinc-400"
      data-testid="connection-indicator"
      data-state={status}
      role="status"
      aria-live="polite"
    >
      <span className={cn("h-2 w-2 rounded-full", DOT[status])} aria-hidden />
      {status}
    </span>
  );
}
