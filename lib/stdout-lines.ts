/**
 * One variation's stdout lines -> SSE events, for the log backend. Pure, so it is unit-tested.
 *
 * A line that is an agent message goes through `toSseEvents`, the mapping the Redis backend
 * uses too. Any other line is what the agent printed as plain text (a real CLI prints more
 * than our JSON): it is shown as output, not dropped, and numbered (sequence of the message
 * before it, fragment n) so a client that sees the log replayed can skip it the second time.
 */
import type { AgentMessage, SseEvent } from "./events";
import { parseAgentMessage, toSseEvents } from "./sse-events";

export type LineResult =
  | { kind: "message"; message: AgentMessage; events: SseEvent[] }
  | { kind: "text"; events: SseEvent[] }
  /** An agent message that names another run or variation: never shown in this pane. */
  | { kind: "misrouted"; message: AgentMessage };

export class StdoutLineReader {
  private last = 0;
  private fragment = 0;

  /** Sequence of the last agent message read. */
  get lastSequence(): number {
    return this.last;
  }

  constructor(
    private readonly runId: string,
    private readonly variationId: string,
    private readonly now: () => string = () => new Date().toISOString(),
  ) {}

  read(line: string): LineResult {
    const parsed = parseAgentMessage(line);
    if (parsed.ok) {
      const { message } = parsed;
      if (message.run_id !== this.runId || message.variation_id !== this.variationId) return { kind: "misrouted", message };
      this.last = Math.max(this.last, message.sequence);
      this.fragment = 0;
      return { kind: "message", message, events: toSseEvents(message) };
    }
    this.fragment += 1;
    const event: SseEvent = {
      event: "agent_output",
      data: {
        run_id: this.runId,
        variation_id: this.variationId,
        sequence: this.last,
        fragment: this.fragment,
        timestamp: this.now(),
        content: `${line}\n`,
      },
    };
    return { kind: "text", events: [event] };
  }
}
