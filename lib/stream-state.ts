/**
 * What the run page knows about each variation, and the pure reducer that folds SSE events
 * into it. Kept apart from the hook so it can be unit-tested and applied in batches.
 */
import type { LogLevel, SseEvent, VariationStatus } from "./events";

export interface LogLine {
  sequence: number;
  timestamp: string;
  level: LogLevel;
  text: string;
}

export interface VariationState {
  variationId: string;
  status: VariationStatus | null;
  output: string;
  logs: LogLine[];
  metrics: Record<string, number>;
  error: string | null;
  /** Highest sequence seen; later used to notice gaps. */
  lastSequence: number;
}

export interface RunStreamState {
  variations: Record<string, VariationState>;
  /** Order in which panes are shown. */
  order: string[];
  runComplete: boolean;
}

export function emptyVariation(variationId: string, status: VariationStatus | null = null): VariationState {
  return { variationId, status, output: "", logs: [], metrics: {}, error: null, lastSequence: 0 };
}

export function initialStreamState(
  variations: readonly { variation_id: string; status: VariationStatus | null }[] = [],
): RunStreamState {
  return {
    variations: Object.fromEntries(variations.map((v) => [v.variation_id, emptyVariation(v.variation_id, v.status)])),
    order: variations.map((v) => v.variation_id),
    runComplete: false,
  };
}

/** Apply a batch of events. Returns a new state; untouched variations keep their identity. */
export function applyEvents(state: RunStreamState, events: readonly SseEvent[]): RunStreamState {
  if (events.length === 0) return state;
  const variations = { ...state.variations };
  const order = [...state.order];
  let runComplete = state.runComplete;
  const touched = new Set<string>();

  const variation = (id: string): VariationState => {
    let current = variations[id];
    if (!current) {
      current = emptyVariation(id);
      order.push(id);
    }
    if (!touched.has(id)) {
      // Copy once per batch; logs are appended in place on the copy.
      current = { ...current, logs: [...current.logs], metrics: { ...current.metrics } };
      touched.add(id);
    }
    variations[id] = current;
    return current;
  };

  for (const { event, data } of events) {
    if (event === "run_complete") {
      runComplete = true;
      for (const [id, status] of Object.entries(data.statuses)) variation(id).status = status;
      continue;
    }
    const v = variation(data.variation_id);
    v.lastSequence = Math.max(v.lastSequence, data.sequence);
    switch (event) {
      case "agent_output":
        v.output += data.content;
        break;
      case "agent_log":
        v.logs.push({ sequence: data.sequence, timestamp: data.timestamp, level: data.level, text: data.content });
        break;
      case "agent_status":
        v.status = data.status;
        break;
      case "agent_metric":
        Object.assign(v.metrics, data.metrics);
        break;
      case "agent_complete":
        v.status = "completed";
        break;
      case "agent_error":
        v.status = "failed";
        v.error = data.error;
        break;
    }
  }
  return { variations, order, runComplete };
}
