"use client";

import useSWR from "swr";
import { z } from "zod";
import { runSchema, type Run } from "@/lib/events";
import { apiUrls } from "@/lib/urls";

export class FetchError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** One fetcher for all REST reads: JSON, with the API's error message on failure. */
export async function fetchJson(url: string): Promise<unknown> {
  const response = await fetch(url, { cache: "no-store" });
  const body: unknown = await response.json().catch(() => null);
  if (!response.ok) {
    const message =
      (body as { error?: { message?: string } } | null)?.error?.message ?? `Request failed with ${response.status}`;
    throw new FetchError(message, response.status);
  }
  return body;
}

const runsResponseSchema = z.object({ runs: z.array(runSchema) });

export function useRuns() {
  return useSWR<Run[], FetchError>(
    apiUrls.runs(),
    async (url: string) => runsResponseSchema.parse(await fetchJson(url)).runs,
    { refreshInterval: 3_000 },
  );
}

/** `null` run id: no request yet. */
export function useRun(runId: string | null) {
  return useSWR<Run, FetchError>(runId ? apiUrls.run(runId) : null, async (url: string) =>
    runSchema.parse(await fetchJson(url)),
  );
}
