"use client";

import { useEffect, useEffectEvent } from "react";
import useSWR, { type KeyedMutator } from "swr";
import { z } from "zod";
import { RETRY_POLICIES, retryDelay } from "@/lib/backoff";
import { isTerminal, runSchema, runsFeedEventSchemas, type Run, type RunsFeedEvent, type RunsFeedEventName } from "@/lib/events";
import { SilenceDetector, silenceTimeout } from "@/lib/silence";
import { apiUrls } from "@/lib/urls";
import { parseJson } from "@/lib/json";

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

/** The list, kept current by the runs feed (GET /api/v1/stream) instead of polling. */
export function useRuns() {
  const swr = useSWR<Run[], FetchError>(apiUrls.runs(), async (url: string) => runsResponseSchema.parse(await fetchJson(url)).runs);
  useRunsFeed(swr.mutate);
  return swr;
}

type RunStatusUpdate = Extract<RunsFeedEvent, { event: "run_status" }>["data"];

/**
 * The list with one variation's new status and the run's status recomputed; null when the
 * list does not have that run or variation (it is newer than the list: refetch).
 */
export function applyRunStatus(runs: Run[], update: RunStatusUpdate): Run[] | null {
  const index = runs.findIndex((run) => run.run_id === update.run_id);
  const run = runs[index];
  const variation = run?.variations.find((v) => v.variation_id === update.variation_id);
  if (!run || !variation) return null;
  if (variation.status === update.status) return runs;
  // A finished variation publishes nothing more, so a non-final status arriving after a list
  // that already says it finished is older than the list: keep what the list says.
  if (isTerminal(variation.status ?? undefined) && !isTerminal(update.status)) return runs;
  const variations = run.variations.map((v) => (v.variation_id === update.variation_id ? { ...v, status: update.status } : v));
  const status = variations.every((v) => isTerminal(v.status ?? undefined)) ? "completed" : "running";
  const next = [...runs];
  next[index] = { ...run, variations, status };
  return next;
}

const FEED_EVENT_NAMES = Object.keys(runsFeedEventSchemas) as RunsFeedEventName[];
/** Changes often come in bursts (a run is created, then each variation starts): one refetch. */
const REFETCH_DELAY_MS = 200;
/** Until the server says otherwise in stream_open. */
const DEFAULT_HEARTBEAT_MS = 30_000;

function parseFeedEvent(name: RunsFeedEventName, raw: string): RunsFeedEvent | null {
  const parsed = runsFeedEventSchemas[name].safeParse(parseJson(raw));
  // TypeScript cannot tie `name` to the schema it picked; the schema checked the data.
  return parsed.success ? ({ event: name, data: parsed.data } as RunsFeedEvent) : null;
}

/**
 * Follows the runs feed: statuses are applied to the cached list in place; anything the list
 * cannot absorb (a new run, a winner, a run it does not have, a (re)connection after which
 * changes may have been missed) refetches it.
 *
 * SWR drops the result of a fetch that a mutate overlapped (it could be older than the
 * mutation). So while our own refetch is in flight, statuses wait and are applied on top of it.
 */
function useRunsFeed(mutate: KeyedMutator<Run[]>): void {
  const mutateList = useEffectEvent(mutate);

  useEffect(() => {
    let refetchTimer: ReturnType<typeof setTimeout> | undefined;
    let refetching = false;
    let refetchAgain = false;
    let held: RunStatusUpdate[] = [];

    const refetchSoon = () => {
      if (refetching) refetchAgain = true;
      else refetchTimer ??= setTimeout(() => void refetch(), REFETCH_DELAY_MS);
    };
    const refetch = async () => {
      refetchTimer = undefined;
      refetching = true;
      try {
        await mutateList();
      } catch {
        // SWR keeps the error for the list to show.
      } finally {
        refetching = false;
      }
      applyStatuses(held.splice(0));
      if (refetchAgain) {
        refetchAgain = false;
        refetchSoon();
      }
    };
    const applyStatuses = (updates: RunStatusUpdate[]) => {
      if (updates.length === 0) return;
      if (refetching) {
        held.push(...updates);
        return;
      }
      void mutateList(
        (runs) => {
          let next = runs;
          for (const update of updates) {
            const applied = next ? applyRunStatus(next, update) : null;
            if (applied) next = applied;
            else refetchSoon();
          }
          return next;
        },
        { revalidate: false },
      );
    };
    const onEvent = (event: RunsFeedEvent) => {
      switch (event.event) {
        case "run_status":
          return applyStatuses([event.data]);
        case "stream_open":
          silence.setTimeoutMs(silenceTimeout(event.data.heartbeat_ms));
          return refetchSoon();
        case "run_changed":
          return refetchSoon();
        case "heartbeat":
          return;
      }
    };

    const feed = new FeedConnection(onEvent);
    const silence = new SilenceDetector(silenceTimeout(DEFAULT_HEARTBEAT_MS), () => feed.reopenLater());
    feed.onHeard = () => silence.heard();
    feed.open();
    return () => {
      feed.close();
      silence.stop();
      clearTimeout(refetchTimer);
      held = [];
    };
  }, []);
}

/**
 * The feed's EventSource. EventSource reconnects by itself after a network error, but gives up
 * for good (readyState CLOSED) on an HTTP error or a wrong content type, e.g. a 503 while Redis
 * is down: then we open a new one after a backoff. Unlike a run page, the list never gives up:
 * it is a background view, and stopping would leave it silently stale.
 */
class FeedConnection {
  private source: EventSource | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private attempt = 0;
  private closed = false;
  onHeard: () => void = () => {};

  constructor(private readonly onEvent: (event: RunsFeedEvent) => void) {}

  open(): void {
    if (this.closed) return;
    const source = new EventSource(apiUrls.runsFeed());
    this.source = source;
    source.onopen = () => {
      this.attempt = 0;
      this.onHeard();
    };
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) this.reopenLater();
    };
    for (const name of FEED_EVENT_NAMES) {
      source.addEventListener(name, (message) => {
        this.onHeard();
        const event = parseFeedEvent(name, (message as MessageEvent<string>).data);
        if (event) this.onEvent(event);
        else console.warn(`[runwatch] runs feed: skipped an unreadable ${name} event`);
      });
    }
  }

  /** Drop the current EventSource (failed, or silent for too long) and open another after a backoff. */
  reopenLater(): void {
    this.source?.close();
    this.source = null;
    if (this.closed || this.retryTimer) return;
    this.attempt += 1;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.open();
      // Capped attempt: past it the delay sits at the policy's cap anyway.
    }, retryDelay(RETRY_POLICIES.redis, Math.min(this.attempt, 16)));
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.source?.close();
    this.source = null;
  }
}

/** `null` run id: no request yet. */
export function useRun(runId: string | null) {
  return useSWR<Run, FetchError>(runId ? apiUrls.run(runId) : null, async (url: string) =>
    runSchema.parse(await fetchJson(url)),
  );
}
