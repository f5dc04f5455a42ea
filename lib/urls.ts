/** URLs of the API, spelled once; shared by server and client. */
import type { StreamingBackend } from "./public-env";

export const apiUrls = {
  runs: () => "/api/v1/runs",
  run: (runId: string) => `/api/v1/runs/${runId}`,
  select: (runId: string) => `/api/v1/runs/${runId}/select`,
  control: (runId: string) => `/api/v1/runs/${runId}/control`,
  presets: () => "/api/v1/presets",
  /** SSE of status changes, new runs and winners across all runs. */
  runsFeed: () => "/api/v1/stream",
} as const;

export function streamUrl(runId: string, backend: StreamingBackend): string {
  return backend === "redis" ? `/api/v1/runs/${runId}/stream/redis` : `/api/v1/runs/${runId}/stream`;
}
