/**
 * Where the log backend (GET /api/v1/runs/<id>/stream) gets agents' stdout lines from.
 *
 * Agents print every message as one JSON line on stdout. Where those lines can be read depends
 * on where the agents run: log files kept by the local orchestrator, or `kubectl logs -f` on
 * each variation's pod. Both are a LineSource, and the stream above them does not care which.
 */
import "server-only";

export interface LineHandlers {
  /** One complete line, without its newline, in the order the agent printed it. */
  line(text: string): void;
  /**
   * No more lines will come from this source for this variation. `error` says why when the
   * end is not the agent's own (kubectl missing or failing, a log that cannot be read).
   */
  end(error?: string): void;
}

export interface FollowOptions {
  /**
   * The run is over (Redis says so): read what the log holds and end, rather than wait for
   * lines that will never come. A missing log is then an error.
   */
  toEnd?: boolean;
}

export interface LineSource {
  /**
   * Follow one variation's stdout from its first line, then new lines as they are printed.
   * Must never throw and never call a handler after `stop` was called. Returns `stop`.
   */
  follow(runId: string, variationId: string, handlers: LineHandlers, options?: FollowOptions): () => void;
  /**
   * The run's variation ids as the source knows them, for when Redis cannot tell us (it is
   * down); null when the source knows no such run.
   */
  discoverVariations(runId: string): Promise<string[] | null>;
}
