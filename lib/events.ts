/**
 * The wire contract, as zod schemas shared by the server, the agent runtime and the browser.
 * No server imports here: the client bundle includes this file.
 *
 * Two layers:
 *  - agent messages: what agents PUBLISH on a run's Redis channels (and print on stdout);
 *  - SSE events: what the stream routes send to browsers, built from agent messages by
 *    `toSseEvents` in lib/sse-events.ts.
 */
import { z } from "zod";
import { runIdSchema, variationIdSchema } from "./ids";
import { streamingBackendSchema } from "./public-env";

export const MESSAGE_TYPES = ["output", "log", "status", "metric"] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

export const VARIATION_STATUSES = ["starting", "running", "completed", "failed"] as const;
export const variationStatusSchema = z.enum(VARIATION_STATUSES);
export type VariationStatus = z.infer<typeof variationStatusSchema>;

/** A variation in one of these states will publish nothing more. */
export const TERMINAL_STATUSES: ReadonlySet<VariationStatus> = new Set(["completed", "failed"]);
export function isTerminal(status: VariationStatus | undefined): boolean {
  return status !== undefined && TERMINAL_STATUSES.has(status);
}

export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export const logLevelSchema = z.enum(LOG_LEVELS);
export type LogLevel = z.infer<typeof logLevelSchema>;

const messageBase = {
  timestamp: z.iso.datetime({ offset: true }),
  run_id: runIdSchema,
  variation_id: variationIdSchema,
  /** Per-variation counter starting at 1; lets a reader notice a gap. */
  sequence: z.number().int().positive(),
};

export const outputMessageSchema = z.object({
  ...messageBase,
  type: z.literal("output"),
  /** A chunk of markdown; chunks are concatenated in sequence order. */
  content: z.string(),
  metadata: z.record(z.string(), z.unknown()).default({}),
});

export const logMessageSchema = z.object({
  ...messageBase,
  type: z.literal("log"),
  content: z.string(),
  metadata: z.looseObject({ level: logLevelSchema.optional() }).default({}),
});

export const statusMessageSchema = z.object({
  ...messageBase,
  type: z.literal("status"),
  content: variationStatusSchema,
  /** `error` explains a `failed` status; `exit_code` when a process exited. */
  metadata: z
    .looseObject({ error: z.string().optional(), exit_code: z.number().int().optional() })
    .default({}),
});

export const metricMessageSchema = z.object({
  ...messageBase,
  type: z.literal("metric"),
  /** Named numeric metrics, e.g. {"tokens": 412, "characters": 2210}. */
  content: z.record(z.string(), z.number()),
  metadata: z.record(z.string(), z.unknown()).default({}),
});

export const agentMessageSchema = z.discriminatedUnion("type", [
  outputMessageSchema,
  logMessageSchema,
  statusMessageSchema,
  metricMessageSchema,
]);
export type AgentMessage = z.infer<typeof agentMessageSchema>;
/** What a publisher passes in: metadata may be omitted. */
export type AgentMessageInput = z.input<typeof agentMessageSchema>;

// ---- SSE events -------------------------------------------------------------------------

const eventBase = {
  run_id: runIdSchema,
  variation_id: variationIdSchema,
  /** The agent message's sequence. 0 only on plain text lines printed before any message. */
  sequence: z.number().int().nonnegative(),
  timestamp: z.string(),
};

export const sseEventSchemas = {
  agent_output: z.object({
    ...eventBase,
    content: z.string(),
    /**
     * Only from the log backend, for a stdout line that is not an agent message: the n-th such
     * line after message `sequence`. (sequence, fragment) identifies it when a stream is replayed.
     */
    fragment: z.number().int().positive().optional(),
  }),
  agent_log: z.object({
    ...eventBase,
    level: logLevelSchema,
    content: z.string(),
  }),
  agent_status: z.object({
    ...eventBase,
    status: variationStatusSchema,
    metadata: z.record(z.string(), z.unknown()),
  }),
  agent_metric: z.object({
    ...eventBase,
    metrics: z.record(z.string(), z.number()),
  }),
  agent_complete: z.object({
    ...eventBase,
    status: z.literal("completed"),
  }),
  agent_error: z.object({
    ...eventBase,
    error: z.string(),
    exit_code: z.number().int().optional(),
  }),
  run_complete: z.object({
    run_id: runIdSchema,
    timestamp: z.string(),
    statuses: z.record(z.string(), variationStatusSchema),
  }),
  /** First event of every stream: which backend serves it and how often it will send heartbeats. */
  stream_open: z.object({
    backend: streamingBackendSchema,
    heartbeat_ms: z.number().int().positive(),
  }),
  /**
   * The client asked to resume after an event the run's stream no longer holds (trimmed): what
   * follows is the whole retained history, to show instead of what the client has.
   */
  reset: z.object({ run_id: runIdSchema, reason: z.string() }),
  /** Sent while a stream is idle; a client that hears nothing for a while knows it is dead. */
  heartbeat: z.object({ timestamp: z.string() }),
} as const;

export type SseEventName = keyof typeof sseEventSchemas;
export const SSE_EVENT_NAMES = Object.keys(sseEventSchemas) as SseEventName[];
export type SseEventData<N extends SseEventName> = z.infer<(typeof sseEventSchemas)[N]>;
export type SseEvent = { [N in SseEventName]: { event: N; data: SseEventData<N> } }[SseEventName];

// ---- REST API -------------------------------------------------------------------------

export const AGENTS = ["demo"] as const;
export const MAX_VARIATIONS = 6;
export const MAX_PROMPT_LENGTH = 20_000;

export const createRunRequestSchema = z.object({
  prompt: z
    .string()
    .trim()
    .min(1, "must not be empty")
    .max(MAX_PROMPT_LENGTH, `must be at most ${MAX_PROMPT_LENGTH} characters`)
    // It reaches agents as an environment variable, where a NUL cannot be passed.
    .refine((prompt) => !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(prompt), "must not contain control characters other than tab and newline"),
  variations: z.number().int().min(1).max(MAX_VARIATIONS).default(3),
  agent: z.enum(AGENTS).default("demo"),
});
export type CreateRunRequest = z.infer<typeof createRunRequestSchema>;

export const RUN_STATUSES = ["running", "completed"] as const;
export const runStatusSchema = z.enum(RUN_STATUSES);
export type RunStatus = z.infer<typeof runStatusSchema>;

export const runSchema = z.object({
  run_id: runIdSchema,
  prompt: z.string(),
  agent: z.string(),
  created_at: z.string(),
  status: runStatusSchema,
  variations: z.array(
    z.object({ variation_id: variationIdSchema, status: variationStatusSchema.nullable() }),
  ),
});
export type Run = z.infer<typeof runSchema>;

export const createRunResponseSchema = z.object({ run_id: runIdSchema, stream_url: z.string() });
export type CreateRunResponse = z.infer<typeof createRunResponseSchema>;
