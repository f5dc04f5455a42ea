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

/** The API answers errors as JSON `{error: {message}}` before a stream opens. */
async function describeStreamFailure(url: string): Promise<string> {
  try {
    const response = await fetch(url, { headers: { Accept: "text/event-stream" } });
    const type = response.headers.get("content-type") ?? "";
    if (type.startsWith("text/event-stream")) {
      await response.body?.cancel();
      return "The stream closed unexpectedly. Reload the page to reconnect.";
    }
    const body = (await response.json().catch(() => null)) as { error?: { message?: string } } | null;
    return `The stream could not be opened (${response.status}): ${body?.error?.message ?? response.statusText}`;
  } catch (error) {
    return `The server cannot be reached: ${(error as Error).message}`;
  }
}

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
    const source = new EventSource(url);
    let pending: SseEvent[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
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
        source.close();
        if (timer) clearTimeout(timer);
        flush();
        update((s) => ({ ...s, connection: "closed" }));
        onRunComplete();
        return;
      }
      timer ??= setTimeout(flush, FLUSH_INTERVAL_MS);
    };

    for (const name of SSE_EVENT_NAMES) source.addEventListener(name, receive(name) as EventListener);
    source.onopen = () => update((s) => ({ ...s, connection: "live", error: null }));
    source.onerror = () => {
      if (done) return;
      // CONNECTING: the browser retries by itself. CLOSED: it gave up because the answer was
      // not an event stream (400/404/503); ask once more to show the server's reason.
      if (source.readyState !== EventSource.CLOSED) return update((s) => ({ ...s, connection: "reconnecting" }));
      update((s) => ({ ...s, connection: "closed" }));
      void describeStreamFailure(url).then((error) => {
        if (!done) update((s) => ({ ...s, error }));
      });
    };

    return () => {
      done = true;
      source.close();
      if (timer) clearTimeout(timer);
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
