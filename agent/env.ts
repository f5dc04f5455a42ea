/**
 * The agent process's own configuration. An agent is a separate program with its own
 * contract (README, "Protocol"), started by the orchestrator with these variables, so it
 * reads them itself rather than through the server's lib/env.ts.
 */
import { z } from "zod";
import { describeZodError } from "../lib/errors";
import { runIdSchema, variationIdSchema } from "../lib/ids";

export const agentEnvSchema = z.object({
  REDIS_URL: z
    .string({ error: "REDIS_URL is not set: the agent needs it to publish" })
    .regex(/^rediss?:\/\//, "REDIS_URL must start with redis:// or rediss://"),
  RUNWATCH_RUN_ID: runIdSchema,
  RUNWATCH_VARIATION_ID: variationIdSchema,
  RUNWATCH_PROMPT: z.string().default(""),
  DEMO_AGENT_SEED: z.coerce.number().int().nonnegative().optional(),
  DEMO_AGENT_SPEED: z.coerce.number().positive().max(1000).default(1),
});

export type AgentEnv = z.infer<typeof agentEnvSchema>;

export function readAgentEnv(env: NodeJS.ProcessEnv = process.env): AgentEnv {
  const result = agentEnvSchema.safeParse(env);
  if (!result.success) {
    throw new Error(`Invalid agent environment: ${describeZodError(result.error)}`);
  }
  return result.data;
}
