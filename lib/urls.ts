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
 * Where to go after signing in: a path on this site only. The value is resolved the way a
 * browser would ("//evil.example", "/\\evil.example" and "/<tab>/evil.example" all lead to
 * another site, since browsers drop tabs and newlines from URLs) and anything that leaves the
 * site falls back to the home page.
 */
export function safeNextPath(next: string | string[] | undefined): string {
  const value = Array.isArray(next) ? next[0] : next;
  if (!value || !value.startsWith("/")) return "/";
  const base = "http://runwatch.invalid";
  let url: URL;
  try {
    url = new URL(value, base);
  } catch {
    return "/";
  }
  return url.origin === base ? `${url.pathname}${url.search}${url.hash}` : "/";
}
