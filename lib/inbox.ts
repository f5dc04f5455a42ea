/**
 * A run's inbox: how an agent on Redis hands its messages and heartbeats to Runwatch.
 *
 * The agent may only append (XADD NOMKSTREAM) to `run:{<run_id>}:inbox` and PUBLISH a wake-up
 * on `inbox:<run_id>` (README, "Redis users"); it cannot read a run's meta, history or other
 * keys. The server (lib/ingest.ts) checks every entry and publishes the good ones through the
 * publish script. Entry fields:
 *   - a message: `v <variation_id> s <sequence> m <message JSON>`; `v` and `s` repeat what
 *     the message says, so a message that is not even JSON still tells which agent sent it and
 *     which sequence number it spent (where its warning goes, lib/ingest.ts);
 *   - a heartbeat: `beat <variation_id>`, plus `gone 1` when the agent exits.
 * Shared by the agent runner and the server, so no `server-only`.
 */
import { channels, INBOX_MAXLEN, keys } from "./channels";
import type { AgentMessage } from "./events";
import { UnknownRunError } from "./publish";
import type { RedisClient } from "./redis-connect";

export type InboxEntry =
  | { kind: "message"; raw: string; variationId: string | null; sequence: number | null }
  | { kind: "beat"; variationId: string; gone: boolean }
  | { kind: "malformed" };

function field(fields: readonly string[], name: string): string | null {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1] ?? null;
  return null;
}

/** What an entry's fields say; nothing here is trusted yet. */
export function parseInboxEntry(fields: readonly string[]): InboxEntry {
  const raw = field(fields, "m");
  const beat = field(fields, "beat");
  if (raw !== null) {
    const sequence = Number(field(fields, "s"));
    return { kind: "message", raw, variationId: field(fields, "v"), sequence: Number.isSafeInteger(sequence) && sequence > 0 ? sequence : null };
  }
  if (beat !== null) return { kind: "beat", variationId: beat, gone: field(fields, "gone") === "1" };
  return { kind: "malformed" };
}

/** The XADD arguments up to the fields: NOMKSTREAM so a run that does not exist is refused. */
function xaddHead(runId: string): (string | number)[] {
  return [keys.runInbox(runId), "NOMKSTREAM", "MAXLEN", "~", INBOX_MAXLEN, "*"];
}

/**
 * Append messages of one run to its inbox (one round trip: the entries share the run's slot)
 * and wake the ingestors. A retried batch is harmless: the publish script skips sequences it
 * has. Throws UnknownRunError when the inbox does not exist (the run expired, or never was).
 */
export function sendToInbox(redis: RedisClient, runId: string): (messages: AgentMessage[]) => Promise<void> {
  return async (messages) => {
    if (messages.length === 0) return;
    const pipeline = redis.pipeline();
    for (const m of messages) {
      pipeline.call("XADD", ...xaddHead(runId), "v", m.variation_id, "s", String(m.sequence), "m", JSON.stringify(m));
    }
    const results = (await pipeline.exec()) ?? [];
    for (const [error, id] of results) {
      if (error) throw error;
      if (id === null) throw new UnknownRunError(runId);
    }
    await redis.publish(channels.inboxWake(runId), String(messages.length));
  };
}

/** A heartbeat (or, with `gone`, the agent's goodbye) through the inbox. */
export async function sendHeartbeat(redis: RedisClient, runId: string, variationId: string, gone = false): Promise<void> {
  const id = await redis.call("XADD", ...xaddHead(runId), "beat", variationId, ...(gone ? ["gone", "1"] : []));
  if (id === null) throw new UnknownRunError(runId);
  await redis.publish(channels.inboxWake(runId), "beat");
}
