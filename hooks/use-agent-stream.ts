"use client";

/**
 * useAgentStream: one run's SSE stream as React state.
 *
 * Events are validated with the shared zod schemas, queued, and folded into state at most
 * once per frame (~16 ms), so a burst of 1,000 events/s costs ~60 renders/s, not 1,000.
 */
import { useEffect, useRef, useState } from "react";
import { SSE_EVENT_NAMES, sseEventSchemas, type SseEvent, type VariationStatus } from "@/lib/events";
import { configuredBackend, type StreamingBackend } from "@/lib/public-env";
import { applyEvents, initialStreamState, type RunStreamState } from "@/lib/stream-state";
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
}

const FLUSH_INTERVAL_MS = 16;

export function useAgentStream(runId: string | null, options: AgentStreamOptions = {}): AgentStream {
  const backend = options.backend ?? configuredBackend();
  const [state, setState] = useState<RunStreamState>(() => initialStreamState(options.variations));
  const [connection, setConnection] = useState<ConnectionStatus>("connecting");
  const [rejectedEvents, setRejectedEvents] = useState(0);
  const onRunCompleteRef = useRef(options.onRunComplete);
  onRunCompleteRef.current = options.onRunComplete;

  // Panes for variations we learn about from the REST API after mounting.
  const variationKey = options.variations?.map((v) => v.variation_id).join(",") ?? "";
  useEffect(() => {
    if (!options.variations?.length) return;
    setState((current) => {
      const missing = options.variations!.filter((v) => !current.variations[v.variation_id]);
      if (missing.length === 0) return current;
      const added = initialStreamState(missing);
      return { ...current, variations: { ...current.variations, ...added.variations }, order: [...current.order, ...added.order] };
    });
    // eslint-disable-next-line react-hooks/exhaustive-deps -- keyed on the ids, not the array identity
  }, [variationKey]);

  useEffect(() => {
    if (!runId) return;
    setConnection("connecting");
    const source = new EventSource(streamUrl(runId, backend));
    let pending: SseEvent[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    let done = false;

    const flush = () => {
      timer = undefined;
      const batch = pending;
      pending = [];
      setState((current) => applyEvents(current, batch));
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
        setRejectedEvents((n) => n + 1);
        return;
      }
      pending.push({ event: name, data: parsed.data } as SseEvent);
      if (name === "run_complete") {
        // The server ends the stream now; closing stops EventSource from reconnecting.
        done = true;
        source.close();
        if (timer) clearTimeout(timer);
        flush();
        setConnection("closed");
        onRunCompleteRef.current?.();
        return;
      }
      timer ??= setTimeout(flush, FLUSH_INTERVAL_MS);
    };

    for (const name of SSE_EVENT_NAMES) source.addEventListener(name, receive(name) as EventListener);
    source.onopen = () => setConnection("live");
    source.onerror = () => {
      if (done) return;
      // CONNECTING: the browser retries by itself; CLOSED: it gave up (e.g. a 404 answer).
      setConnection(source.readyState === EventSource.CLOSED ? "closed" : "reconnecting");
    };

    return () => {
      done = true;
      source.close();
      if (timer) clearTimeout(timer);
    };
  }, [runId, backend]);

  return { ...state, connection, backend, rejectedEvents };
}
