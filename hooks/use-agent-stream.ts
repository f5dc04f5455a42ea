"use client";

/**
 * useAgentStream: one run's SSE stream as React state.
 *
 * Events are validated with the shared zod schemas, queued, and folded into state at most
 * once per frame (~16 ms), so a burst of 1,000 events/s costs ~60 renders/s, not 1,000.
 */
import { useEffect, useEffectEvent, useMemo, useState } from "react";
import { SSE_EVENT_NAMES, sseEventSchemas, type SseEvent, type VariationStatus } from "@/lib/events";
import { configuredBackend, type StreamingBackend } from "@/lib/public-env";
import { applyEvents, emptyVariation, initialStreamState, type RunStreamState } from "@/lib/stream-state";
import { streamUrl } from "@/lib/urls";

export type ConnectionStatus = "connecting" | "live" | "reconnecting" | "closed";

export interface AgentStreamOptions {
  backend?: StreamingBackend;
  /** Known variations, so panes exist before their first event. */
  variations?: readonly { variation_id: string; status: VariationStatus | null }[];
  onRunComplete?: () => void;
}

export interface AgentStream extends RunStreamState {
  connection: ConnectionStatus;
  backend: StreamingBackend;
  /** Events the client received but could not understand (schema mismatch). */
  rejectedEvents: number;
  /** Why the stream closed before the run completed (the server's own message when it gave one). */
  error: string | null;
}

interface StreamSession {
  /** Which stream this state belongs to; state of an earlier run id is never shown. */
  url: string;
  stream: RunStreamState;
  connection: ConnectionStatus;
  rejectedEvents: number;
  error: string | null;
}

const FLUSH_INTERVAL_MS = 16;

interface StreamFailure {
  message: string;
  /** Worth trying again (the server or Redis is having a moment), as opposed to a 4xx. */
  retry: boolean;
}

/**
 * EventSource gives up for good when an answer is not an event stream, without saying why.
 * Ask once more to learn the server's reason, and whether a retry can help.
 */
async function describeStreamFailure(url: string): Promise<StreamFailure> {
  try {
    const response = await fetch(url, { headers: { Accept: "text/event-stream" } });
    if ((response.headers.get("content-type") ?? "").startsWith("text/event-stream")) {
      await response.body?.cancel();
      return { message: "The stream closed unexpectedly.", retry: true };
    }
    const body = (await response.json().catch(() => null)) as { error?: { message?: string } } | null;
    return {
      message: `The stream could not be opened (${response.status}): ${body?.error?.message ?? response.statusText}`,
      retry: response.status >= 500 || response.status === 429,
    };
  } catch (error) {
    return { message: `The server cannot be reached: ${(error as Error).message}`, retry: true };
  }
}

const MAX_RETRY_DELAY_MS = 15_000;

function freshSession(url: string): StreamSession {
  return { url, stream: initialStreamState(), connection: "connecting", rejectedEvents: 0, error: null };
}

export function useAgentStream(runId: string | null, options: AgentStreamOptions = {}): AgentStream {
  const backend = options.backend ?? configuredBackend();
  const url = runId ? streamUrl(runId, backend) : "";
  const [session, setSession] = useState<StreamSession>(() => freshSession(url));
  const onRunComplete = useEffectEvent(() => options.onRunComplete?.());

  useEffect(() => {
    if (!url) return;
    let source: EventSource | null = null;
    let pending: SseEvent[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    let retryTimer: ReturnType<typeof setTimeout> | undefined;
    let failures = 0;
    let done = false;
    // Updates for this url only; the first one replaces whatever an earlier url left behind.
    const update = (change: (s: StreamSession) => StreamSession) =>
      setSession((current) => change(current.url === url ? current : freshSession(url)));

    const flush = () => {
      timer = undefined;
      const batch = pending;
      pending = [];
      update((s) => ({ ...s, stream: applyEvents(s.stream, batch) }));
    };

    const receive = (name: SseEvent["event"]) => (message: MessageEvent<string>) => {
      let json: unknown;
      try {
        json = JSON.parse(message.data);
      } catch {
        json = undefined;
      }
      const parsed = sseEventSchemas[name].safeParse(json);
      if (!parsed.success) {
        update((s) => ({ ...s, rejectedEvents: s.rejectedEvents + 1 }));
        return;
      }
      pending.push({ event: name, data: parsed.data } as SseEvent);
      if (name === "run_complete") {
        // The server ends the stream now; closing stops EventSource from reconnecting.
        done = true;
        source?.close();
        if (timer) clearTimeout(timer);
        flush();
        update((s) => ({ ...s, connection: "closed" }));
        onRunComplete();
        return;
      }
      timer ??= setTimeout(flush, FLUSH_INTERVAL_MS);
    };

    const giveUpOrRetry = async () => {
      const failure = await describeStreamFailure(url);
      if (done) return;
      if (!failure.retry) return update((s) => ({ ...s, connection: "closed", error: failure.message }));
      failures += 1;
      const delay = Math.min(1_000 * 2 ** (failures - 1), MAX_RETRY_DELAY_MS);
      update((s) => ({ ...s, connection: "reconnecting", error: `${failure.message} Retrying in ${Math.round(delay / 1000)} s.` }));
      retryTimer = setTimeout(connect, delay);
    };

    function connect() {
      const current = new EventSource(url);
      source = current;
      for (const name of SSE_EVENT_NAMES) current.addEventListener(name, receive(name) as EventListener);
      current.onopen = () => {
        failures = 0;
        update((s) => ({ ...s, connection: "live", error: null }));
      };
      current.onerror = () => {
        if (done) return;
        // CONNECTING: the browser retries by itself. CLOSED: it gave up for good (a non-stream
        // answer such as 404 or 503): find out why, and retry ourselves when that can help.
        if (current.readyState !== EventSource.CLOSED) return update((s) => ({ ...s, connection: "reconnecting" }));
        current.close();
        void giveUpOrRetry();
      };
    }
    connect();

    return () => {
      done = true;
      source?.close();
      if (timer) clearTimeout(timer);
      if (retryTimer) clearTimeout(retryTimer);
    };
  }, [url]);

  const current = session.url === url ? session : freshSession(url);
  const known = options.variations;
  // Panes for variations the REST API knows about but the stream has not mentioned yet.
  const stream = useMemo(() => {
    const missing = (known ?? []).filter((v) => !current.stream.variations[v.variation_id]);
    if (missing.length === 0) return current.stream;
    const variations = { ...current.stream.variations };
    for (const v of missing) variations[v.variation_id] = emptyVariation(v.variation_id, v.status);
    const order = [...(known ?? []).map((v) => v.variation_id), ...current.stream.order.filter((id) => !known?.some((v) => v.variation_id === id))];
    return { ...current.stream, variations, order };
  }, [known, current.stream]);

  return { ...stream, connection: current.connection, backend, rejectedEvents: current.rejectedEvents, error: current.error };
}
