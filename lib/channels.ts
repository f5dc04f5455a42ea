/**
 * The one place a Redis key or channel name is spelled.
 *
 * Agents in any language publish on these channels (see README, "Protocol"), so changing a
 * name here is a protocol change. No `server-only` here: the agent runtime and tests use
 * these names too, and nothing in this file talks to Redis.
 */
import type { MessageType } from "./events";

const PREFIX = "run";

export const channels = {
  output: (runId: string, variationId: string) => `${PREFIX}:${runId}:output:${variationId}`,
  logs: (runId: string, variationId: string) => `${PREFIX}:${runId}:logs:${variationId}`,
  status: (runId: string) => `${PREFIX}:${runId}:status`,
  metrics: (runId: string) => `${PREFIX}:${runId}:metrics`,
  control: (runId: string) => `${PREFIX}:${runId}:control`,
  /** Pattern covering every channel of one run; callers must pass a validated run id. */
  runPattern: (runId: string) => `${PREFIX}:${runId}:*`,
  /** Every run's status channel: the runs feed (GET /api/v1/stream) listens to these. */
  allStatuses: () => `${PREFIX}:*:status`,
  /** A run was created or its winner chosen ({"run_id", "change"}); for the runs feed. */
  runsChanged: () => "runs:changed",
  /**
   * An agent's wake-up after it appended to the run's inbox (lib/inbox.ts): "read the inbox now".
   * Not under `run:<id>:` on purpose: viewers subscribe to `run:<id>:*`, and an inbox wake-up
   * carries no message for them. The payload means nothing; the inbox stream is the truth.
   */
  inboxWake: (runId: string) => `inbox:${runId}`,
  /** Every run's inbox wake-up: each app instance's ingestor (lib/ingest.ts) listens to these. */
  allInboxWakes: () => "inbox:*",
} as const;

/** The run id of an inbox wake-up channel, or null. Callers still validate the id. */
export function parseInboxWake(channel: string): string | null {
  const match = /^inbox:([^:]+)$/.exec(channel);
  return match?.[1] ?? null;
}

/**
 * A run's keys share the hash tag {<run id>}, so they sit in one Redis Cluster slot and the
 * publish script (lib/publish.ts) may touch them all atomically.
 */
export const keys = {
  /** Hash: the run's prompt, agent, variations, created_at, ttl_seconds, stream_maxlen. */
  runMeta: (runId: string) => `${PREFIX}:{${runId}}:meta`,
  /** Hash: variation id -> last status an agent published. Written by the publish script. */
  runVariations: (runId: string) => `${PREFIX}:{${runId}}:variations`,
  /** Stream: every message of the run, in order; entry ids are the SSE event ids. */
  runEvents: (runId: string) => `${PREFIX}:{${runId}}:events`,
  /** Hash: variation id -> highest sequence accepted; makes a retried publish a no-op. */
  runSequences: (runId: string) => `${PREFIX}:{${runId}}:sequences`,
  /** Stream: the run's control messages, in order; agents replay it so none is missed. */
  runControl: (runId: string) => `${PREFIX}:{${runId}}:control`,
  /**
   * String with a TTL that a live agent keeps renewing (its last beat, ISO time). The issue's
   * `agent:<run>:<variation>:heartbeat`, with the run id as hash tag like the run's keys.
   */
  agentHeartbeat: (runId: string, variationId: string) => `agent:{${runId}}:${variationId}:heartbeat`,
  /**
   * Stream: what agents on Redis send (messages and heartbeats), before the server checks it.
   * Agents may only XADD here (README, "Redis users"); lib/ingest.ts validates each entry and
   * publishes it with the publish script. Created with the run, so XADD NOMKSTREAM refuses a
   * run that does not exist.
   */
  runInbox: (runId: string) => `${PREFIX}:{${runId}}:inbox`,
  /** Stream: inbox entries (and HTTP messages) that failed validation, with the reason. */
  runDeadLetters: (runId: string) => `${PREFIX}:{${runId}}:dead`,
  /** Sorted set of run ids scored by creation time (ms), for the runs list. */
  runsIndex: () => "runs:index",
  /**
   * Prefix of one rate limit's counters (lib/rate-limit.ts); rate-limiter-flexible appends
   * `:<key>`, so each counter is one plain key (no hash tag: any Cluster slot will do).
   */
  rateLimitPrefix: (limit: string) => `ratelimit:${limit}`,
} as const;

/** Every key of one run: what expires RUN_TTL_SECONDS after its last message. */
export function runKeys(runId: string): string[] {
  return [keys.runMeta(runId), keys.runEvents(runId), keys.runVariations(runId), keys.runSequences(runId), keys.runControl(runId), keys.runInbox(runId)];
}

/** Defaults stored in each run's meta hash, so agents need not know them. */
export const DEFAULT_RUN_TTL_SECONDS = 24 * 3600;
export const DEFAULT_STREAM_MAXLEN = 100_000;
/**
 * Entries an inbox keeps (XADD MAXLEN ~). The ingestor empties it as it goes, so this only
 * bounds an inbox nobody ingests (no app instance running): past it the oldest are lost.
 */
export const INBOX_MAXLEN = 100_000;
/** Rejected messages a run keeps for inspection. */
export const DEAD_LETTER_MAXLEN = 1_000;

/** The channel a message of this type belongs on. */
export function channelFor(type: MessageType, runId: string, variationId: string): string {
  switch (type) {
    case "output":
      return channels.output(runId, variationId);
    case "log":
      return channels.logs(runId, variationId);
    case "status":
      return channels.status(runId);
    case "metric":
      return channels.metrics(runId);
  }
}

export type ParsedChannel =
  | { runId: string; kind: "output" | "logs"; variationId: string }
  | { runId: string; kind: "status" | "metrics" | "control" };

/** Inverse of `channels.*`; null for anything that is not one of a run's channels. */
export function parseChannel(channel: string): ParsedChannel | null {
  const parts = channel.split(":");
  if (parts[0] !== PREFIX || parts.length < 3) return null;
  const [, runId, kind, variationId] = parts;
  if (!runId) return null;
  if ((kind === "output" || kind === "logs") && parts.length === 4 && variationId) {
    return { runId, kind, variationId };
  }
  if ((kind === "status" || kind === "metrics" || kind === "control") && parts.length === 3) {
    return { runId, kind };
  }
  return null;
}
