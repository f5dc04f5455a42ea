/**
 * The agent process's own configuration. An agent is a separate program with its own
 * contract (README, "Protocol"), started by the orchestrator with these variables, so it
 * reads them itself rather than through the server's lib/env.ts.
 */
import { z } from "zod";
import { describeZodError } from "../lib/errors";
import { runIdSchema, variationIdSchema } from "../lib/ids";
import { redisEnvIssues, redisEnvShape, redisTargetOf } from "../lib/redis-connect";
import { parseJson } from "../lib/json";

const optional = <T extends z.ZodType>(schema: T) => z.preprocess((value) => (value === "" ? undefined : value), schema.optional());

export const agentEnvSchema = z
  .object({
    /**
     * Publish straight to Redis (REDIS_URL; or REDIS_SENTINELS + REDIS_SENTINEL_NAME; or
     * REDIS_CLUSTER_NODES, the server's own choice, lib/env.ts agentRedisEnv)...
     */
    ...redisEnvShape,
    /** ...or, without REDIS_URL, over HTTP to this Runwatch server with the run's agent token. */
    RUNWATCH_API_URL: optional(z.url({ protocol: /^https?$/, error: "RUNWATCH_API_URL must be an http(s) URL" })),
    RUNWATCH_AGENT_TOKEN: optional(z.string().min(1)),
    RUNWATCH_RUN_ID: runIdSchema,
    RUNWATCH_VARIATION_ID: variationIdSchema,
    RUNWATCH_PROMPT: z.string().default(""),
    /** The agent renews its heartbeat key with this TTL. */
    RUNWATCH_HEARTBEAT_TTL_SECONDS: z.coerce.number().int().min(2).max(3600).default(15),
    /** A command agent: its argv as a JSON array (lib/agent-env.ts builds it from a preset). */
    RUNWATCH_AGENT_COMMAND: optional(
      z.string().transform((text, ctx) => {
        const parsed = z.array(z.string()).min(1).safeParse(parseJson(text));
        if (!parsed.success) {
          ctx.addIssue({ code: "custom", message: "RUNWATCH_AGENT_COMMAND must be a JSON array of strings, e.g. [\"my-agent\", \"--prompt\", \"hi\"]" });
          return z.NEVER;
        }
        return parsed.data;
      }),
    ),
    RUNWATCH_AGENT_CWD: optional(z.string()),
    RUNWATCH_STOP_GRACE_SECONDS: z.coerce.number().positive().max(300).default(10),
    DEMO_AGENT_SEED: z.coerce.number().int().nonnegative().optional(),
    DEMO_AGENT_SPEED: z.coerce.number().positive().max(1000).default(1),
  })
  .superRefine((env, ctx) => {
    for (const { path, message } of redisEnvIssues(env)) ctx.addIssue({ code: "custom", path: [path], message });
  })
  .refine((env) => redisTargetOf(env) || (env.RUNWATCH_API_URL && env.RUNWATCH_AGENT_TOKEN), {
    message: "set REDIS_URL (or REDIS_SENTINELS and REDIS_SENTINEL_NAME, or REDIS_CLUSTER_NODES) to publish to Redis, or RUNWATCH_API_URL and RUNWATCH_AGENT_TOKEN to publish over HTTP",
    path: ["REDIS_URL"],
  });

export type AgentEnv = z.infer<typeof agentEnvSchema>;

export function readAgentEnv(env: NodeJS.ProcessEnv = process.env): AgentEnv {
  const result = agentEnvSchema.safeParse(env);
  if (!result.success) {
    throw new Error(`Invalid agent environment: ${describeZodError(result.error)}`);
  }
  return result.data;
}
