/**
 * Agent message -> SSE events. Pure, shared by every stream backend so they cannot drift:
 * whatever carries the message (Redis pub/sub, stdout lines), the browser gets the same events.
 */
import { describeZodError } from "./errors";
import {
  agentMessageSchema,
  isTerminal,
  type AgentMessage,
  type SseEvent,
  type VariationStatus,
} from "./events";
import { parseJson } from "./json";

export function toSseEvents(message: AgentMessage): SseEvent[] {
  const base = {
    run_id: message.run_id,
    variation_id: message.variation_id,
    sequence: message.sequence,
    timestamp: message.timestamp,
  };
  switch (message.type) {
    case "output":
      return [{ event: "agent_output", data: { ...base, content: message.content } }];
    case "log":
      return [
        {
          event: "agent_log",
          data: { ...base, level: message.metadata.level ?? "info", content: message.content },
        },
      ];
    case "metric":
      return [{ event: "agent_metric", data: { ...base, metrics: message.content } }];
    case "status": {
      const events: SseEvent[] = [
        { event: "agent_status", data: { ...base, status: message.content, metadata: message.metadata } },
      ];
      if (message.content === "completed") {
        events.push({ event: "agent_complete", data: { ...base, status: "completed" } });
      } else if (message.content === "failed") {
        const { error, exit_code } = message.metadata;
        events.push({
          event: "agent_error",
          data: { ...base, error: error ?? "agent reported failure without a reason", exit_code },
        });
      }
      return events;
    }
  }
}

export type ParseResult =
  | { ok: true; message: AgentMessage }
  | { ok: false; reason: string };

/** Parse one raw agent message (a Redis payload or a stdout line). Never throws. */
export function parseAgentMessage(raw: string): ParseResult {
  const json = parseJson(raw);
  if (json === undefined) return { ok: false, reason: "not JSON" };
  const result = agentMessageSchema.safeParse(json);
  if (!result.success) return { ok: false, reason: `schema: ${describeZodError(result.error)}` };
  return { ok: true, message: result.data };
}

/**
 * Tracks each variation's latest status to decide when a run is over: every variation has
 * reached a terminal status. Statuses for variations the run does not have are ignored.
 */
export class RunCompletion {
  private readonly statuses = new Map<string, VariationStatus | undefined>();
  /** The latest time a variation finished; run_complete carries it. */
  private lastTimestamp: string | undefined;

  constructor(variationIds: readonly string[], known: Record<string, VariationStatus | undefined> = {}) {
    for (const id of variationIds) this.statuses.set(id, known[id]);
  }

  observe(variationId: string, status: VariationStatus, timestamp?: string): void {
    if (!this.statuses.has(variationId)) return;
    // A terminal status is final; a late "running" must not reopen a finished variation.
    if (isTerminal(this.statuses.get(variationId))) return;
    this.statuses.set(variationId, status);
    // The latest terminal status, not the last one seen: backends interleave variations differently.
    if (timestamp && isTerminal(status) && (!this.lastTimestamp || Date.parse(timestamp) > Date.parse(this.lastTimestamp))) {
      this.lastTimestamp = timestamp;
    }
  }

  isTerminal(variationId: string): boolean {
    return isTerminal(this.statuses.get(variationId));
  }

  isComplete(): boolean {
    return [...this.statuses.values()].every(isTerminal);
  }

  snapshot(): Record<string, VariationStatus> {
    const out: Record<string, VariationStatus> = {};
    for (const [id, status] of this.statuses) if (status) out[id] = status;
    return out;
  }

  /**
   * The closing event. Its time is that of the last variation to finish, not the time it was
   * sent, so every backend and every replay of a run ends with the same event.
   */
  completeEvent(runId: string): SseEvent {
    return {
      event: "run_complete",
      data: { run_id: runId, timestamp: this.lastTimestamp ?? new Date().toISOString(), statuses: this.snapshot() },
    };
  }
}
