/**
 * Agents over HTTP: POST /api/v1/runs/<id>/events takes a batch of agent messages from an
 * agent holding the run's token and sends each through the same validation and the same
 * publish script as an agent on Redis, in order. A batch is checked whole before anything is
 * published, so a bad message never leaves half a batch behind; a message whose sequence was
 * accepted already (a retried request) is a no-op, which makes retrying a batch safe.
 */
import "server-only";
import { ApiError, describeZodError } from "./errors";
import { recordDeadLetter, type DeadLetter } from "./dead-letter";
import { serverEnv } from "./env";
import { agentEventsRequestSchema, type AgentMessage, type Run } from "./events";
import { checkBatchLimits } from "./limits";
import { runLogger } from "./log";
import { checkMessage } from "./message-check";
import { publishMessage, UnknownRunError } from "./publish";
import { getRedis } from "./redis";

export interface PublishedResult {
  variation_id: string;
  sequence: number;
  /** The stream entry id, or null when that sequence had been accepted already. */
  id: string | null;
}

/**
 * The batch's messages, checked; 422 if any is bad, with nothing of the batch published. The
 * bad ones are kept in the run's dead-letter stream and counted (lib/dead-letter.ts), with one
 * log line for the batch. Viewers are not told: the agent is, by the 422, and a warning in its
 * logs would need a sequence number of its own, which a batch the agent may fix and resend
 * must keep.
 */
export async function validateBatch(run: Run, body: unknown): Promise<AgentMessage[]> {
  const batch = agentEventsRequestSchema.safeParse(body);
  if (!batch.success) throw new ApiError("bad_request", describeZodError(batch.error));
  checkBatchLimits(batch.data.messages);
  const context = { runId: run.run_id, variations: new Set(run.variations.map((v) => v.variation_id)), maxBytes: serverEnv().MAX_MESSAGE_BYTES };
  const problems: string[] = [];
  const rejected: DeadLetter[] = [];
  const messages: AgentMessage[] = [];
  batch.data.messages.forEach((raw, i) => {
    const verdict = checkMessage(raw, context);
    if (verdict.ok) {
      messages.push(verdict.message);
      return;
    }
    const field = verdict.reason === "wrong_run" ? ".run_id" : verdict.reason === "unknown_variation" ? ".variation_id" : "";
    problems.push(`messages.${i}${field}: ${verdict.detail}`);
    const variationId = (raw as { variation_id?: unknown } | null)?.variation_id;
    rejected.push({ reason: verdict.reason, detail: verdict.detail, raw: JSON.stringify(raw), variationId: typeof variationId === "string" ? variationId.slice(0, 64) : null, source: "http", log: false });
  });
  if (problems.length > 0) {
    const redis = getRedis();
    for (const letter of rejected) await recordDeadLetter(redis, run.run_id, letter);
    runLogger(run.run_id).warn({ rejected: rejected.length, reasons: [...new Set(rejected.map((l) => l.reason))] }, "refused an agent's batch over HTTP (422); its bad messages are in the dead-letter stream");
    throw new ApiError("unprocessable", `Nothing was published: ${problems.slice(0, 10).join("; ")}${problems.length > 10 ? `; and ${problems.length - 10} more` : ""}`, { problems });
  }
  return messages;
}

export async function publishBatch(run: Run, messages: readonly AgentMessage[]): Promise<PublishedResult[]> {
  const redis = getRedis();
  const results: PublishedResult[] = [];
  try {
    for (const message of messages) {
      results.push({ variation_id: message.variation_id, sequence: message.sequence, id: await publishMessage(redis, message) });
    }
  } catch (error) {
    if (error instanceof UnknownRunError) throw new ApiError("not_found", `Run ${run.run_id} not found (it may have expired)`);
    throw error;
  }
  return results;
}
