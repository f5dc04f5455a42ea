import { BACKEND_LABELS, type StreamingBackend } from "@/lib/public-env";

export function BackendBadge({ backend, overridden }: { backend: StreamingBackend; overridden: boolean }) {
  return (
    <span
      className="rounded-md border border-zinc-300 px-2 py-0.5 text-xs font-medium text-zinc-700 dark:border-zinc-700 dark:text-zinc-300"
      data-testid="backend-badge"
      data-backend={backend}
      title={
        overridden
          ? "Chosen for this browser on the new-run form (Advanced); the server default is NEXT_PUBLIC_STREAMING_BACKEND"
          : "The server's streaming backend (NEXT_PUBLIC_STREAMING_BACKEND)"
      }
    >
      {BACKEND_LABELS[backend]}
      {overridden && <span className="ml-1 text-zinc-500">(this browser)</span>}
    </span>
  );
}
