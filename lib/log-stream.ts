/**
 * The log backend (GET /api/v1/runs/<id>/stream): one run as an SSE response built from what
 * its agents print on stdout, for when Redis pub/sub cannot be used. Same events, same
 * payloads as the Redis backend; the lines come from a LineSource (local log files, or
 * `kubectl logs -f` when agents run on Kubernetes).
 */
import "server-only";
import { agentSourceFor } from "./agent-sources";
import { ApiError, isRedisUnavailable } from "./errors";
import { serverEnv } from "./env";
import type { LineSource } from "./line-source";
import { runLogger } from "./log";
import { requireRun, requireRunId } from "./runs";
import { SseConnection } from "./sse-connection";
import { RunCompletion } from "./sse-events";
import { StdoutLineReader } from "./stdout-lines";

interface RunLogs {
  variationIds: string[];
  /** Redis says every variation has finished: read the logs to their end and stop. */
  finished: boolean;
}

/**
 * The run's variations from Redis, or from the source itself when Redis is down: watching a
 * run without Redis is what this backend is for.
 */
async function findRun(runId: string, source: LineSource): Promise<RunLogs> {
  try {
    const run = await requireRun(runId);
    return { variationIds: run.variations.map((v) => v.variation_id), finished: run.status === "completed" };
  } catch (error) {
    if (!isRedisUnavailable(error)) throw error;
    const variationIds = await source.discoverVariations(runId);
    if (!variationIds) throw new ApiError("not_found", `Run ${runId} not found (Redis is unavailable, and no agent logs of this run were found)`);
    return { variationIds, finished: false };
  }
}

export async function openLogRunStream(runIdParam: string, signal: AbortSignal, source: LineSource = agentSourceFor(serverEnv())): Promise<Response> {
  const runId = requireRunId(runIdParam);
  const { variationIds, finished } = await findRun(runId, source);
  const completion = new RunCompletion(variationIds);
  const connection = new SseConnection(signal, { backend: "kubectl", runId });
  connection.start("kubectl", serverEnv().SSE_HEARTBEAT_MS);

  const finishIfComplete = () => {
    if (connection.closed || !completion.isComplete()) return;
    connection.sendEvents([completion.completeEvent(runId)]);
    connection.close();
  };

  for (const variationId of variationIds) {
    if (connection.closed) break; // a finished run may complete while its first log is read
    const reader = new StdoutLineReader(runId, variationId);
    const stop = source.follow(
      runId,
      variationId,
      {
        line: (text) => {
          if (connection.closed) return;
          const result = reader.read(text);
          if (result.kind === "misrouted") {
            runLogger(runId, variationId).warn({ message_run_id: result.message.run_id, message_variation_id: result.message.variation_id }, "skipped a message for another run or variation in this variation's log");
            return;
          }
          connection.sendEvents(result.events);
          if (result.kind === "message" && result.message.type === "status") {
            completion.observe(variationId, result.message.content, result.message.timestamp);
            finishIfComplete();
          }
        },
        end: (error) => {
          if (connection.closed || completion.isTerminal(variationId)) return;
          // The log stopped before the agent said how it ended: say so rather than spin forever.
          // Numbered after the last message, so plain text lines before it cannot shadow it.
          const reason = error ?? "the agent's log ended without a final status (the agent may have been killed)";
          const timestamp = new Date().toISOString();
          connection.sendEvents([
            { event: "agent_error", data: { run_id: runId, variation_id: variationId, sequence: reader.lastSequence + 1, timestamp, error: `Cannot follow this variation's log: ${reason}` } },
          ]);
          completion.observe(variationId, "failed", timestamp);
          finishIfComplete();
        },
      },
      { toEnd: finished },
    );
    connection.onClose(stop);
  }
  return connection.response;
}
