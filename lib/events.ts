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

/**
 * `paused`, `resumed` and `stopped` are an agent's acknowledgements of control messages (they
 * carry its `control_id`); `resumed` means running again.
 */
export const VARIATION_STATUSES = ["starting", "running", "paused", "resumed", "completed", "failed", "stopped"] as const;
export const variationStatusSchema = z.enum(VARIATION_STATUSES);
export type VariationStatus = z.infer<typeof variationStatusSchema>;

/** A variation in one of these states will publish nothing more. */
export const TERMINAL_STATUSES: ReadonlySet<VariationStatus> = new Set(["completed", "failed", "stopped"]);
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
  /**
   * `error` explains a `failed` status; `exit_code` when a process exited; `control_id` names
   * the control message a `paused`/`resumed`/`stopped` status acknowledges.
   */
  metadata: z
    .looseObject({ error: z.string().optional(), exit_code: z.number().int().optional(), control_id: z.string().optional() })
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
  /**
   * An agent's heartbeat key lapsed (`alive: false`) or came back: not in the run's history,
   * sent live by the Redis backend when it changes. `last_seen` is the agent's last beat.
   */
  agent_liveness: z.object({
    run_id: runIdSchema,
    variation_id: variationIdSchema,
    alive: z.boolean(),
    last_seen: z.string().nullable(),
  }),
} as const;

export type SseEventName = keyof typeof sseEventSchemas;
export const SSE_EVENT_NAMES = Object.keys(sseEventSchemas) as SseEventName[];
export type SseEventData<N extends SseEventName> = z.infer<(typeof sseEventSchemas)[N]>;
export type SseEvent = { [N in SseEventName]: { event: N; data: SseEventData<N> } }[SseEventName];

// ---- REST API -------------------------------------------------------------------------

/** The built-in demo agent; other presets come from the presets file (lib/presets.ts). */
export const DEMO_PRESET = "demo";
export const PRESET_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;
export const presetNameSchema = z.string().regex(PRESET_NAME_PATTERN, "must be a preset name: lowercase letters, digits, '.', '_' or '-'");
/**
 * Default of the server's limit (MAX_VARIATIONS in lib/env.ts), and what the new-run form
 * offers. Sizes and counts are checked on the server (lib/limits.ts), where they are
 * configurable; the schemas here check shape only.
 */
export const MAX_VARIATIONS = 6;

export const createRunRequestSchema = z.object({
  prompt: z
    .string()
    .trim()
    .min(1, "must not be empty")
    // It reaches agents as an environment variable, where a NUL cannot be passed.
    .refine((prompt) => !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(prompt), "must not contain control characters other than tab and newline"),
  variations: z.number().int().min(1).optional(),
  /** One preset for every variation... */
  agent: presetNameSchema.optional(),
  /** ...or one per variation (a run may mix them: that is the point of comparing). */
  agents: z.array(presetNameSchema).min(1).optional(),
})
  .refine((r) => !(r.agent && r.agents), { message: "give either agent or agents, not both", path: ["agents"] })
  .refine((r) => !r.agents || r.variations === undefined || r.variations === r.agents.length, {
    message: "variations must equal the number of agents (or be left out)",
    path: ["variations"],
  })
  .transform(({ prompt, variations, agent, agents }) => ({
    prompt,
    /** The preset of each variation, in order. */
    agents: agents ?? Array.from({ length: variations ?? 3 }, () => agent ?? DEMO_PRESET),
  }));
export type CreateRunRequest = z.infer<typeof createRunRequestSchema>;

export const RUN_STATUSES = ["running", "completed"] as const;
export const runStatusSchema = z.enum(RUN_STATUSES);
export type RunStatus = z.infer<typeof runStatusSchema>;

export const runSchema = z.object({
  run_id: runIdSchema,
  prompt: z.string(),
  /** The preset of the first variation; kept for older clients. */
  agent: z.string(),
  created_at: z.string(),
  status: runStatusSchema,
  variations: z.array(
    z.object({ variation_id: variationIdSchema, status: variationStatusSchema.nullable(), agent: z.string() }),
  ),
  /** The variation a user selected as the best, once the run was complete. */
  winner: variationIdSchema.nullable(),
});
export type Run = z.infer<typeof runSchema>;

export const createRunResponseSchema = z.object({
  run_id: runIdSchema,
  stream_url: z.string(),
  /**
   * Lets an agent publish to this run and only this run (POST .../events, GET .../control/stream).
   * Shown once: the server keeps only its hash.
   */
  agent_token: z.string(),
});
export type CreateRunResponse = z.infer<typeof createRunResponseSchema>;

// ---- Control ----------------------------------------------------------------------------

export const CONTROL_ACTIONS = ["pause", "resume", "stop"] as const;
export const controlActionSchema = z.enum(CONTROL_ACTIONS);
export type ControlAction = z.infer<typeof controlActionSchema>;

/** The status an agent publishes to acknowledge each action. */
export const ACK_STATUS: Record<ControlAction, VariationStatus> = { pause: "paused", resume: "resumed", stop: "stopped" };

export const controlRequestSchema = z.object({
  action: controlActionSchema,
  /** Absent: every variation of the run that has not finished. */
  variation_id: variationIdSchema.optional(),
});

/** What agents receive on run:<id>:control (inside the publish envelope) and on the control stream. */
export const controlMessageSchema = z.object({
  control_id: z.string().regex(/^ctl-[0-9a-z]{16}$/),
  run_id: runIdSchema,
  action: controlActionSchema,
  /** null: the whole run. */
  variation_id: variationIdSchema.nullable(),
  timestamp: z.string(),
});
export type ControlMessage = z.infer<typeof controlMessageSchema>;

export const controlResponseSchema = z.object({
  control_id: z.string(),
  /** The variations expected to acknowledge. */
  variation_ids: z.array(variationIdSchema),
});
export type ControlResponse = z.infer<typeof controlResponseSchema>;

/** Does this control message concern that variation? */
export function controlTargets(message: ControlMessage, variationId: string): boolean {
  return message.variation_id === null || message.variation_id === variationId;
}

// ---- Agents over HTTP -------------------------------------------------------------------

/** Default of the server's limit on messages per request (MAX_EVENTS_BATCH in lib/env.ts). */
export const MAX_EVENTS_BATCH = 500;
export const agentEventsRequestSchema = z.object({
  messages: z.array(z.unknown()).min(1),
});

// ---- Winner and runs feed ---------------------------------------------------------------

export const selectWinnerRequestSchema = z.object({ winning_variation_id: variationIdSchema });

/** POST /api/v1/session: sign in with the viewer or admin token. */
export const signInRequestSchema = z.object({ token: z.string().min(1, "the token is required").max(1024) });

/** GET/POST /api/v1/session. */
export const sessionSchema = z.object({ auth: z.enum(["none", "token"]), role: z.enum(["viewer", "admin"]).nullable() });
export type Session = z.infer<typeof sessionSchema>;

/** Events of GET /api/v1/stream: what changed across all runs. */
export const runsFeedEventSchemas = {
  /** A variation of some run published a status. */
  run_status: z.object({ run_id: runIdSchema, variation_id: variationIdSchema, status: variationStatusSchema, timestamp: z.string() }),
  /** A run was created or its winner chosen: fetch it again. */
  run_changed: z.object({ run_id: runIdSchema, change: z.enum(["created", "winner"]) }),
  stream_open: z.object({ heartbeat_ms: z.number().int().positive() }),
  heartbeat: z.object({ timestamp: z.string() }),
} as const;
export type RunsFeedEventName = keyof typeof runsFeedEventSchemas;
export type RunsFeedEvent = { [N in RunsFeedEventName]: { event: N; data: z.infer<(typeof runsFeedEventSchemas)[N]> } }[RunsFeedEventName];
