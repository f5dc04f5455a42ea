import type { ConnectionState, ConnectionStatus } from "@/lib/stream-client";
import { cn } from "@/lib/cn";

const DOT: Record<ConnectionStatus, string> = {
  connecting: "bg-amber-400 animate-pulse",
  live: "bg-green-500",
  reconnecting: "bg-orange-500 animate-pulse",
  lost: "bg-red-500",
  closed: "bg-zinc-400",
};

export function connectionLabel({ status, attempt, attempts }: ConnectionState): string {
  if (status === "reconnecting" && attempt && attempts) return `reconnecting (attempt ${attempt} of ${attempts})`;
  if (status === "lost") return "connection lost";
  return status;
}

export function ConnectionIndicator({ state }: { state: ConnectionState | null }) {
  const status = state?.status ?? "connecting";
  return (
    <span
      className="inline-flex items-center gap-1.5 text-xs text-zinc-600 dark:text-zinc-400"
      data-testid="connection-indicator"
      data-state={status}
      role="status"
      aria-live="polite"
    >
      <span className={cn("h-2 w-2 rounded-full", DOT[status])} aria-hidden />
      {state ? connectionLabel(state) : "connecting"}
    </span>
  );
}
