/** URLs of the API, spelled once; shared by server and client. */
import type { StreamingBackend } from "./public-env";

export const apiUrls = {
  runs: () => "/api/v1/runs",
  run: (runId: string) => `/api/v1/runs/${runId}`,
  select: (runId: string) => `/api/v1/runs/${runId}/select`,
  control: (runId: string) => `/api/v1/runs/${runId}/control`,
  presets: () => "/api/v1/presets",
  /** Sign in (POST {token}), sign out (DELETE), who am I (GET). */
  session: () => "/api/v1/session",
  /** SSE of status changes, new runs and winners across all runs. */
  runsFeed: () => "/api/v1/stream",
} as const;

export function streamUrl(runId: string, backend: StreamingBackend): string {
  return backend === "redis" ? `/api/v1/runs/${runId}/stream/redis` : `/api/v1/runs/${runId}/stream`;
}

/**
 * Where to go after signing in: a path on this site only. "//evil.example" and
 * "/\\evil.example" are other sites to a browser, so they fall back to the home page.
 */
export function safeNextPath(next: string | string[] | undefined): string {
  const value = Array.isArray(next) ? next[0] : next;
  if (!value || !value.startsWith("/") || value.startsWith("//") || value.startsWith("/\\")) return "/";
  return value;
}
