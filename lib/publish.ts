/**
 * The publish path: how one agent message reaches Redis. Shared by the agent runtime and the
 * server (which reports crashed agents). No `server-only`: the agent is a plain Node process
 * where that import would throw; this module only uses the client it is handed.
 *
 * One Lua script does it all atomically, so a viewer can never see a message that is not in
 * the run's history, nor miss one that is:
 *   - refuse a run that does not exist (or has expired);
 *   - skip a sequence already accepted for the variation (a retried publish is a no-op);
 *   - XADD the message to the run's stream (capped with MAXLEN ~ stream_maxlen);
 *   - record the variation's sequence, and its status if the message is one (a final status,
 *     completed, failed or stopped, stays: nothing reopens a finished variation);
 *   - PUBLISH {"id": <entry id>, "message": <message>} on the message's channel;
 *   - push every key of the run's expiry to ttl_seconds from now.
 * Only the server runs it now (for HTTP agents, for what lib/ingest.ts takes from agents'
 * inboxes, and for failure reports): running a script needs read and write permission on all
 * its keys, which agents no longer have (README, "Redis users"). Trusted in-process callers
 * (tests, the server) may still hand AgentPublisher a client and publish through it.
 */
import { ReplyError } from "ioredis";
import { channelFor, keys, runKeys } from "./channels";
import type { AgentMessage } from "./events";
import type { RedisClient } from "./redis-connect";

export const PUBLISH_SCRIPT = `
local ttl = tonumber(redis.call('HGET', KEYS[1], 'ttl_seconds'))
if not ttl then return redis.error_reply('NORUN run does not exist or has expired') end
local last = tonumber(redis.call('HGET', KEYS[4], ARGV[3]) or '0')
if tonumber(ARGV[4]) <= last then return false end
local maxlen = redis.call('HGET', KEYS[1], 'stream_maxlen') or '100000'
local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', maxlen, '*', 'm', ARGV[2])
redis.call('HSET', KEYS[4], ARGV[3], ARGV[4])
if ARGV[5] ~= '' then
  local current = redis.call('HGET', KEYS[3], ARGV[3])
  if current ~= 'completed' and current ~= 'failed' and current ~= 'stopped' then redis.call('HSET', KEYS[3], ARGV[3], ARGV[5]) end
end
redis.call('PUBLISH', ARGV[1], '{"id":"' .. id .. '","message":' .. ARGV[2] .. '}')
for i = 1, #KEYS do redis.call('EXPIRE', KEYS[i], ttl) end
return id
`;

/** KEYS: runKeys() (meta, events, variations, sequences first, then the rest for expiry). */
type WithPublish = RedisClient & {
  runwatchPublish(numKeys: number, ...args: string[]): Promise<string | null>;
};

/** EVALSHA with a fallback to EVAL on NOSCRIPT (ioredis's defineCommand), defined once per client. */
function withScript(redis: RedisClient): WithPublish {
  const client = redis as WithPublish;
  if (typeof client.runwatchPublish !== "function") {
    // numberOfKeys is given per call: the run's key list may grow.
    redis.defineCommand("runwatchPublish", { lua: PUBLISH_SCRIPT });
  }
  return client;
}

/** Publishing failed in a way retrying cannot fix (unknown run, rejected token or message). */
export class FatalPublishError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FatalPublishError";
  }
}

/** Thrown for a run that does not exist or has expired. */
export class UnknownRunError extends FatalPublishError {
  constructor(runId: string) {
    super(`run ${runId} does not exist or has expired`);
    this.name = "UnknownRunError";
  }
}

/**
 * Append and publish one message. Resolves with its stream entry id, or null when that
 * sequence had been accepted already (a retry after a lost reply).
 */
export async function publishMessage(redis: RedisClient, message: AgentMessage): Promise<string | null> {
  const { run_id: runId, variation_id: variationId } = message;
  try {
    const scriptKeys = runKeys(runId);
    return await withScript(redis).runwatchPublish(
      scriptKeys.length,
      ...scriptKeys,
      channelFor(message.type, runId, variationId),
      JSON.stringify(message),
      variationId,
      String(message.sequence),
      message.type === "status" ? message.content : "",
    );
  } catch (error: unknown) {
    if (error instanceof ReplyError && (error as Error).message.startsWith("NORUN")) throw new UnknownRunError(runId);
    throw error;
  }
}

export interface FailureReport {
  runId: string;
  variationId: string;
  error: string;
  exitCode?: number | null;
  /** A sequence the report must at least have (what the agent printed). */
  atLeast?: number;
}

function failureMessage({ runId, variationId, error, exitCode, atLeast = 1 }: FailureReport, last: number): AgentMessage {
  return {
    type: "status",
    content: "failed",
    run_id: runId,
    variation_id: variationId,
    sequence: Math.max(last + 1, atLeast),
    timestamp: new Date().toISOString(),
    metadata: { error, ...(exitCode !== null && exitCode !== undefined ? { exit_code: exitCode } : {}) },
  };
}

/**
 * Publish a `failed` status for an agent that could not (crash, kill, a Job that never ran).
 * Its sequence must follow the last one Redis accepted, or the script takes it for a retry and
 * ignores it; an agent's outbox may still publish in between, so try again on a fresh read.
 * `onMessage` sees each message tried (the local orchestrator also writes it to the log).
 */
export async function publishFailure(redis: RedisClient, report: FailureReport, onMessage?: (message: AgentMessage) => void): Promise<AgentMessage> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const last = Number((await redis.hget(keys.runSequences(report.runId), report.variationId)) ?? 0);
    const message = failureMessage(report, last);
    if ((await publishMessage(redis, message)) !== null) {
      onMessage?.(message);
      return message;
    }
  }
  throw new Error(`the failure report for ${report.runId}/${report.variationId} kept losing the race with the agent's own messages`);
}
