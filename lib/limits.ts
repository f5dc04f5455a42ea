/**
 * Size and count limits on what clients and agents send, configurable by env (lib/env.ts).
 *
 * They live here rather than in the shared schemas of lib/events.ts because the browser
 * bundle cannot read the server's environment. The answers are the same everywhere:
 *  - a body or one field larger than allowed: 413 payload_too_large;
 *  - a count over its limit (variations, messages per batch): 422 unprocessable;
 *  - malformed JSON or a wrong shape stays 400 (the schemas).
 * Every message names the field, the limit and the variable that sets it. Checks run before
 * anything is written, so a refused request changes nothing.
 */
import "server-only";
import { serverEnv, type ServerEnv } from "./env";
import { ApiError } from "./errors";
import { createRunRequestSchema, type CreateRunRequest } from "./events";

/** Bytes of a string as UTF-8: what Redis stores and what an env var holds. */
export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

export function tooLarge(field: string, bytes: number, limit: number, variable: string): ApiError {
  return new ApiError("payload_too_large", `${field}: ${bytes} bytes, larger than the limit of ${limit} bytes (${variable})`);
}

export function tooMany(field: string, count: number, limit: number, variable: string, what: string): ApiError {
  return new ApiError("unprocessable", `${field}: ${count} ${what}, more than the limit of ${limit} (${variable})`);
}

type CreateRunLimits = Pick<ServerEnv, "MAX_PROMPT_BYTES" | "MAX_VARIATIONS">;

/**
 * The limits of a run request, checked on the raw body before the schema: the schema's
 * transform builds one entry per variation, which must not happen for `variations: 1e9`.
 * Values of the wrong type are left to the schema (400).
 */
export function checkCreateRunLimits(body: unknown, limits: CreateRunLimits): void {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return;
  const { prompt, variations, agents } = body as Record<string, unknown>;
  if (typeof prompt === "string") {
    // Measured as stored: the schema trims it.
    const bytes = utf8Bytes(prompt.trim());
    if (bytes > limits.MAX_PROMPT_BYTES) throw tooLarge("prompt", bytes, limits.MAX_PROMPT_BYTES, "MAX_PROMPT_BYTES");
  }
  if (Number.isInteger(variations) && (variations as number) > limits.MAX_VARIATIONS) {
    throw tooMany("variations", variations as number, limits.MAX_VARIATIONS, "MAX_VARIATIONS", "variations");
  }
  if (Array.isArray(agents) && agents.length > limits.MAX_VARIATIONS) {
    throw tooMany("agents", agents.length, limits.MAX_VARIATIONS, "MAX_VARIATIONS", "agents (one per variation)");
  }
}

/** POST /api/v1/runs: limits (413/422), then the schema (400). */
export function parseCreateRunRequest(body: unknown, limits: CreateRunLimits = serverEnv()): CreateRunRequest {
  checkCreateRunLimits(body, limits);
  return createRunRequestSchema.parse(body);
}

type BatchLimits = Pick<ServerEnv, "MAX_MESSAGE_BYTES" | "MAX_EVENTS_BATCH">;

/**
 * POST .../events: the number of messages (422), then each message's JSON size (413), on a
 * batch whose shape the schema has accepted. Nothing of a batch is published unless all pass.
 */
export function checkBatchLimits(messages: readonly unknown[], limits: BatchLimits = serverEnv()): void {
  if (messages.length > limits.MAX_EVENTS_BATCH) {
    throw tooMany("messages", messages.length, limits.MAX_EVENTS_BATCH, "MAX_EVENTS_BATCH", "messages in one request");
  }
  messages.forEach((message, i) => {
    let bytes: number;
    try {
      bytes = utf8Bytes(JSON.stringify(message) ?? "");
    } catch {
      throw new ApiError("unprocessable", `messages.${i}: nested too deeply to be stored`);
    }
    if (bytes > limits.MAX_MESSAGE_BYTES) throw tooLarge(`messages.${i}`, bytes, limits.MAX_MESSAGE_BYTES, "MAX_MESSAGE_BYTES");
  });
}

/** The agent runtime sends up to 1 MiB per request whatever the limits (agent/transport.ts). */
const MIN_EVENTS_BODY_BYTES = 4 * 1024 * 1024;

/**
 * The body cap of POST .../events: room for a few messages of the largest size allowed, and
 * never below 4 MiB, so the agent runtime's batches always fit.
 */
export function eventsBodyLimit(limits: Pick<ServerEnv, "MAX_MESSAGE_BYTES"> = serverEnv()): number {
  return Math.max(MIN_EVENTS_BODY_BYTES, 4 * limits.MAX_MESSAGE_BYTES);
}
