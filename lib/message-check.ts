/**
 * Is an agent message fit to publish? One check for both ways in (an inbox entry, an HTTP
 * batch), answering either the message or why not, in the terms of the dead-letter stream.
 */
import "server-only";
import { describeZodError } from "./errors";
import { agentMessageSchema, type AgentMessage } from "./events";
import { parseJson } from "./json";
import type { DeadLetterReason } from "./metrics";

export type MessageVerdict = { ok: true; message: AgentMessage } | { ok: false; reason: DeadLetterReason; detail: string };

export interface CheckContext {
  runId: string;
  variations: ReadonlySet<string>;
  maxBytes: number;
}

/** Check a message that arrived as text (an inbox entry). */
export function checkRawMessage(raw: string, context: CheckContext): MessageVerdict {
  const bytes = Buffer.byteLength(raw);
  if (bytes > context.maxBytes) return { ok: false, reason: "too_large", detail: `${bytes} bytes, over the limit of ${context.maxBytes} (MAX_MESSAGE_BYTES)` };
  const json = parseJson(raw);
  if (json === undefined) return { ok: false, reason: "not_json", detail: "not JSON" };
  return checkMessage(json, context);
}

/** Check a message that arrived parsed (an HTTP batch, or an inbox entry once parsed). */
export function checkMessage(json: unknown, { runId, variations, maxBytes }: CheckContext): MessageVerdict {
  const parsed = agentMessageSchema.safeParse(json);
  if (!parsed.success) return { ok: false, reason: "invalid", detail: describeZodError(parsed.error) };
  const message = parsed.data;
  if (message.run_id !== runId) return { ok: false, reason: "wrong_run", detail: `run_id is ${message.run_id}, but this is run ${runId}` };
  if (!variations.has(message.variation_id)) return { ok: false, reason: "unknown_variation", detail: `run ${runId} has no variation ${message.variation_id}` };
  let bytes: number;
  try {
    bytes = Buffer.byteLength(JSON.stringify(message));
  } catch {
    // JSON.parse and zod take nesting thousands deep that JSON.stringify then cannot write back.
    return { ok: false, reason: "invalid", detail: "nested too deeply to be stored" };
  }
  if (bytes > maxBytes) return { ok: false, reason: "too_large", detail: `${bytes} bytes, over the limit of ${maxBytes} (MAX_MESSAGE_BYTES)` };
  return { ok: true, message };
}
