/**
 * Agents over HTTP: POST /api/v1/runs/<id>/events takes a batch of agent messages from an
 * agent holding the run's token and sends each through the same validation and the same
 * publish script as an agent on Redis, in order. A batch is checked whole before anything is
 * published, so a bad message never leaves half a batch behind; a message whose sequence was
 * accepted already (a retried request) is a no-op, which makes retrying a batch safe.
 */
import "server-only";
import { ApiError, describeZodError } from "./errors";
import { agentEventsRequestSchema, agentMessageSchema, type AgentMessage, type Run } from "./events";
import { checkBatchLimits } from "./limits";
import { publishMessage, UnknownRunError } from "./publish";
import { getRedis } from "./redis";

export interface PublishedResult {
  variation_id: string;
  sequence: number;
  /** The stream entry id, or null when that sequence had been accepted already. */
  id: string | null;
}

export function validateBatch(run: Run, body: unknown): AgentMessage[] {
  const batch = agentEventsRequestSchema.safeParse(body);
  if (!batch.success) throw new ApiError("bad_request", describeZodError(batch.error));
  checkBatchLimits(batch.data.messages);
  const variations = new Set(run.variations.map((v) => v.variation_id));
  const problems: string[] = [];
  const messages: AgentMessage[] = [];
  batch.data.messages.forEach((raw, i) => {
    const parsed = agentMessageSchema.safeParse(raw);
    if (!parsed.success) {
      problems.push(`messages.${i}: ${describeZodError(parsed.error)}`);
      return;
    }
    if (parsed.data.run_id !== run.run_id) problems.push(`messages.${i}.run_id: is ${parsed.data.run_id}, but this is run ${run.run_id}`);
    else if (!variations.has(parsed.data.variation_id)) problems.push(`messages.${i}.variation_id: run ${run.run_id} has no variation ${parsed.data.variation_id}`);
    else messages.push(parsed.data);
  });
  if (problems.length > 0) {
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
