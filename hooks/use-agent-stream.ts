"use client";

/**
 * useAgentStream: one run's SSE stream as React state.
 *
 * The connection itself (reconnects, silence detection, validation, batching) lives in
 * lib/stream-client.ts; this hook folds its batches into state, at most once per frame, and
 * skips events it has already applied, so a reconnect that replays a stream adds nothing twice.
 */
import { startTransition, useCallback, useEffect, useEffectEvent, useMemo, useRef, useState } from "react";
import { RETRY_POLICIES } from "@/lib/backoff";
import type { VariationStatus } from "@/lib/events";
import type { StreamingBackend } from "@/lib/public-env";
import { applyEvents, emptyVariation, initialStreamState, type RunStreamState } from "@/lib/stream-state";
import { StreamClient, type ConnectionState, type ConnectionStatus } from "@/lib/stream-client";
import { streamUrl } from "@/lib/urls";

export type { ConnectionStatus };

export interface AgentStreamOptions {
  /** Which backend to stream from; null waits (e.g. until a per-browser choice is read). */
  backend: StreamingBackend | null;
  /** Known variations, so panes exist before their first event. */
  variations?: readonly { variation_id: string; status: VariationStatus | null }[];
  onRunComplete?: () => void;
}

export interface AgentStream extends RunStreamState {
  connection: ConnectionState;
  backend: StreamingBackend | null;
  /** Events the client received but could not understand (schema mismatch). */
  rejectedEvents: number;
  /** Try again now after the connection was given up for lost. */
  retry: () => void;
}

interface StreamSession {
  /** Which stream this state belongs to; state of an earlier run id is never shown. */
  url: string;
  stream: RunStreamState;
  connection: ConnectionState;
  rejectedEvents: number;
}

function freshSession(url: string): StreamSession {
  return { url, stream: initialStreamState(), connection: { status: "connecting", error: null }, rejectedEvents: 0 };
}

export function useAgentStream(runId: string | null, options: AgentStreamOptions): AgentStream {
  const { backend } = options;
  const url = runId && backend ? streamUrl(runId, backend) : "";
  const [session, setSession] = useState<StreamSession>(() => freshSession(url));
  const client = useRef<StreamClient | null>(null);
  const onRunComplete = useEffectEvent(() => options.onRunComplete?.());

  useEffect(() => {
    if (!url || !backend) return;
    // Updates for this url only; the first one replaces whatever an earlier url left behind.
    const update = (change: (s: StreamSession) => StreamSession) =>
      setSession((current) => change(current.url === url ? current : freshSession(url)));
    const stream = new StreamClient(url, RETRY_POLICIES[backend], {
      events: (batch) => {
        // A transition, so React renders what a batch brings in 5 ms slices and the page keeps
        // answering input: a default-priority update from a timer is rendered in one task, and
        // the first batch of a long answer (dozens of markdown blocks) took 120-230 ms that way.
        // e2e/long-output.spec.ts measures both: no task over 100 ms, and the text keeps up.
        startTransition(() => update((s) => ({ ...s, stream: applyEvents(s.stream, batch) })));
        if (batch.some((e) => e.event === "run_complete")) onRunComplete();
      },
      connection: (connection) => update((s) => ({ ...s, connection })),
      rejected: () => update((s) => ({ ...s, rejectedEvents: s.rejectedEvents + 1 })),
    });
    client.current = stream;
    stream.start();
    return () => {
      stream.stop();
      client.current = null;
    };
  }, [url, backend]);

  const retry = useCallback(() => client.current?.retry(), []);
  const current = session.url === url ? session : freshSession(url);
  const known = options.variations;
  // The run's own order of panes (a replay may mention var-2 first), and panes for variations
  // the REST API knows about but the stream has not mentioned yet.
  const stream = useMemo(() => {
    if (!known || known.length === 0) return current.stream;
    const variations = { ...current.stream.variations };
    for (const v of known) variations[v.variation_id] ??= emptyVariation(v.variation_id, v.status);
    const knownIds = new Set(known.map((v) => v.variation_id));
    const order = [...knownIds, ...current.stream.order.filter((id) => !knownIds.has(id))];
    return { ...current.stream, variations, order };
  }, [known, current.stream]);

  return { ...stream, connection: current.connection, backend, rejectedEvents: current.rejectedEvents, retry };
}
