import type { StreamingBackend } from "@/lib/public-env";

const LABELS: Record<StreamingBackend, string> = {
  redis: "Redis Streaming",
  kubectl: "Kubectl Streaming",
};

export function BackendBadge({ backend }: { backend: StreamingBackend }) {
  return (
    <span
      className="rounded-md border border-zinc-300 px-2 py-0.5 text-xs font-medium text-zinc-700 dark:border-zinc-700 dark:text-zinc-300"
      data-testid="backend-badge"
      title="Which backend this page streams from (NEXT_PUBLIC_STREAMING_BACKEND)"
    >
      {LABELS[backend]}
    </span>
  );
}
