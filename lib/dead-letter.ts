/**
 * Where agent messages that fail validation go: the run's dead-letter stream
 * (`run:{<run_id>}:dead`, capped, expiring with the run), a count in
 * runwatch_dead_letters_total and a warning in the server's log. Viewers never get them.
 */
import "server-only";
import { ReplyError } from "ioredis";
import { DEAD_LETTER_MAXLEN, keys } from "./channels";
import { serverEnv } from "./env";
import { runLogger } from "./log";
import { metrics, type DeadLetterReason } from "./metrics";
import type { RedisClient } from "./redis";

export type { DeadLetterReason } from "./metrics";

/** What is kept of a rejected message: enough to see what went wrong, not a second copy of a huge one. */
const KEPT_BYTES = 64 * 1024;

export interface DeadLetter {
  reason: DeadLetterReason;
  /** Readable: what was wrong with it. */
  detail: string;
  raw: string;
  /** Which agent sent it, when known. */
  variationId?: string | null;
  /** "inbox" (an agent on Redis) or "http" (POST .../events). */
  source: "inbox" | "http";
  /**
   * The inbox entry's id, reused as the dead letter's: every app instance ingests the same
   * inbox, and the second XADD with that id fails ("equal or smaller"), so it is stored once.
   */
  entryId?: string;
  /** False when the caller logs once for many (a rejected HTTP batch). */
  log?: boolean;
}

/** A variation id is at most 64 characters (lib/ids.ts); twice that shows what was sent. */
const MAX_LABEL_CHARS = 128;
const MAX_DETAIL_CHARS = 2_000;

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}… (${text.length} characters)` : text;
}

/**
 * Store one rejected message. Resolves true if this call stored it (then it is counted and
 * logged here), false if another instance had already.
 */
export async function recordDeadLetter(redis: RedisClient, runId: string, letter: DeadLetter): Promise<boolean> {
  // The variation id and detail come from the bad entry itself: cut to a sane length before
  // they reach Redis and the logs (an agent could send 70,000 characters; found by the fuzz test).
  const variationId = letter.variationId == null ? null : truncate(letter.variationId, MAX_LABEL_CHARS);
  const detail = truncate(letter.detail, MAX_DETAIL_CHARS);
  const bytes = Buffer.byteLength(letter.raw);
  const kept = bytes > KEPT_BYTES ? Buffer.from(letter.raw).subarray(0, KEPT_BYTES).toString() : letter.raw;
  const key = keys.runDeadLetters(runId);
  try {
    await redis.xadd(key, "MAXLEN", "~", DEAD_LETTER_MAXLEN, letter.entryId ?? "*", "reason", letter.reason, "detail", detail, "source", letter.source, "variation_id", variationId ?? "", "bytes", String(bytes), "m", kept);
  } catch (error) {
    if (error instanceof ReplyError && /equal or smaller/i.test((error as Error).message)) return false;
    throw error;
  }
  await redis.expire(key, serverEnv().RUN_TTL_SECONDS);
  metrics().deadLetters.inc({ reason: letter.reason });
  if (letter.log !== false) runLogger(runId, variationId).warn({ reason: letter.reason, detail, source: letter.source, entry_id: letter.entryId, bytes }, "dead-lettered an invalid agent message");
  return true;
}
