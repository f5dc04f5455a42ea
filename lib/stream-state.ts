/**
 * What the run page knows about each variation, and the pure reducer that folds SSE events
 * into it. Kept apart from the hook so it can be unit-tested and applied in batches.
 */
import { appendAll, emptyList, type AppendList } from "./append-list";
import { isTerminal, type LogLevel, type SseEvent, type VariationStatus } from "./events";

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
  /** How many output chunks make `output`: what "n new" counts while the reader is scrolled up. */
  outputChunks: number;
  /** Shared between versions of the state but for the last chunk (lib/append-list.ts). */
  logs: AppendList<LogLine>;
  metrics: Record<string, number>;
  error: string | null;
  /** Highest sequence seen; later used to notice gaps. */
  lastSequence: number;
  /** The newest event applied, to skip events seen again after a reconnect. */
  applied: AppliedMark;
  /** Sequence numbers that never arrived (lost or trimmed messages), shown rather than hidden. */
  gaps: { from: number; to: number }[];
  /** false once the agent's heartbeat lapsed; null until the server said anything. */
  alive: boolean | null;
  /** The agent's last heartbeat, when known. */
  lastSeen: string | null;
  /** The agent's time of its first message, and of its final status: the pane's elapsed time. */
  startedAt: string | null;
  endedAt: string | null;
  /** Control messages this variation's agent acknowledged, newest last (the last few only). */
  acks: readonly string[];
}

/**
 * Events of one variation arrive in order, so "already applied" is a high-water mark: the
 * (sequence, fragment) of the newest event, plus which event names were applied at it (one
 * agent message can become two events, e.g. agent_status and agent_complete).
 */
export interface AppliedMark {
  sequence: number;
  fragment: number;
  events: readonly SseEvent["event"][];
}

export interface RunStreamState {
  variations: Record<string, VariationState>;
  /** Order in which panes are shown. */
  order: string[];
  runComplete: boolean;
  /** Events skipped because they had been applied already (a replayed stream). */
  duplicatesSkipped: number;
  /** How often the server said to start over (history trimmed past our resume point). */
  resets: number;
}

export function emptyVariation(variationId: string, status: VariationStatus | null = null): VariationState {
  return { variationId, status, output: "", outputChunks: 0, logs: emptyList(), metrics: {}, error: null, lastSequence: 0, applied: { sequence: -1, fragment: 0, events: [] }, gaps: [], alive: null, lastSeen: null, startedAt: null, endedAt: null, acks: [] };
}

export function initialStreamState(
  variations: readonly { variation_id: string; status: VariationStatus | null }[] = [],
): RunStreamState {
  return {
    variations: Object.fromEntries(variations.map((v) => [v.variation_id, emptyVariation(v.variation_id, v.status)])),
    order: variations.map((v) => v.variation_id),
    runComplete: false,
    duplicatesSkipped: 0,
    resets: 0,
  };
}

/** Enough for any burst of clicks the page is still waiting on. */
const MAX_ACKS_KEPT = 32;

type VariationEvent = Exclude<SseEvent, { event: "run_complete" | "stream_open" | "heartbeat" | "reset" | "agent_liveness" }>;

/** Marks `v` with the event unless it was applied already; false means skip it. */
function markApplied(v: VariationState, { event, data }: VariationEvent): boolean {
  const fragment = event === "agent_output" ? (data.fragment ?? 0) : 0;
  const mark = v.applied;
  const order = data.sequence - mark.sequence || fragment - mark.fragment;
  if (order < 0 || (order === 0 && mark.events.includes(event))) return false;
  v.applied = order > 0 ? { sequence: data.sequence, fragment, events: [event] } : { ...mark, events: [...mark.events, event] };
  return true;
}

/** Apply a batch of events. Returns a new state; untouched variations keep their identity. */
export function applyEvents(state: RunStreamState, events: readonly SseEvent[]): RunStreamState {
  if (events.length === 0) return state;
  let variations = { ...state.variations };
  const order = [...state.order];
  let runComplete = state.runComplete;
  let duplicatesSkipped = state.duplicatesSkipped;
  let resets = state.resets;
  const touched = new Set<string>();
  // Log lines per variation, appended at the end at once: a variation may hold 100,000 lines.
  const added = new Map<string, LogLine[]>();

  const variation = (id: string): VariationState => {
    let current = variations[id];
    if (!current) {
      current = emptyVariation(id);
      order.push(id);
    }
    if (!touched.has(id)) {
      // Copy once per batch; metrics are merged in place on the copy.
      current = { ...current, metrics: { ...current.metrics } };
      touched.add(id);
    }
    variations[id] = current;
    return current;
  };

  for (const item of events) {
    if (item.event === "stream_open" || item.event === "heartbeat") continue;
    if (item.event === "reset") {
      // The whole retained history follows: it replaces what is shown, panes stay in place.
      variations = Object.fromEntries(order.map((id) => [id, emptyVariation(id)]));
      touched.clear();
      added.clear();
      runComplete = false;
      resets += 1;
      continue;
    }
    if (item.event === "agent_liveness") {
      // Not part of the run's history (no sequence): the latest word wins.
      const v = variation(item.data.variation_id);
      v.alive = item.data.alive;
      v.lastSeen = item.data.last_seen;
      continue;
    }
    if (item.event === "run_complete") {
      runComplete = true;
      for (const [id, status] of Object.entries(item.data.statuses)) variation(id).status = status;
      continue;
    }
    const v = variation(item.data.variation_id);
    if (!markApplied(v, item)) {
      duplicatesSkipped += 1;
      continue;
    }
    const isNewMessage = item.data.sequence > v.lastSequence && !(item.event === "agent_output" && item.data.fragment);
    if (isNewMessage && item.data.sequence > v.lastSequence + 1) {
      v.gaps = [...v.gaps, { from: v.lastSequence + 1, to: item.data.sequence - 1 }];
    }
    v.lastSequence = Math.max(v.lastSequence, item.data.sequence);
    v.startedAt ??= item.data.timestamp;
    switch (item.event) {
      case "agent_output":
        v.output += item.data.content;
        v.outputChunks += 1;
        break;
      case "agent_log": {
        const lines = added.get(v.variationId) ?? [];
        lines.push({ sequence: item.data.sequence, timestamp: item.data.timestamp, level: item.data.level, text: item.data.content });
        added.set(v.variationId, lines);
        break;
      }
      case "agent_status": {
        // A final status stays final, as on the server: a late status cannot reopen a variation.
        if (!isTerminal(v.status ?? undefined)) {
          v.status = item.data.status;
          if (isTerminal(item.data.status)) v.endedAt = item.data.timestamp;
        }
        const controlId = item.data.metadata.control_id;
        if (typeof controlId === "string") v.acks = [...v.acks.slice(-(MAX_ACKS_KEPT - 1)), controlId];
        break;
      }
      case "agent_metric":
        Object.assign(v.metrics, item.data.metrics);
        break;
      case "agent_complete":
        if (!isTerminal(v.status ?? undefined)) v.status = "completed";
        break;
      case "agent_error":
        // Its own agent_status came just before; an error after another final status is stale.
        if (isTerminal(v.status ?? undefined) && v.status !== "failed") break;
        v.status = "failed";
        v.error = item.data.error;
        break;
    }
  }
  // The lines already shown stay the same objects: lib/log-view.ts relies on it to filter and
  // search only what a batch added.
  for (const [id, lines] of added) {
    const v = variations[id]!; // this batch's copy: variation() made it
    v.logs = appendAll(v.logs, lines);
  }
  return { variations, order, runComplete, duplicatesSkipped, resets };
}
