/**
 * Server configuration: the only module (with lib/public-env.ts for NEXT_PUBLIC_* names) that
 * reads process.env. Parsed once, on first use, so a missing variable fails loudly with its
 * name instead of surfacing later as an odd connection error.
 */
import "server-only";
import path from "node:path";
import { z } from "zod";
import { describeZodError } from "./errors";

const serverEnvSchema = z.object({
  REDIS_URL: z
    .string({ error: "REDIS_URL environment variable is not set (npm start sets it for its own redis-server)" })
    .regex(/^rediss?:\/\//, "REDIS_URL must start with redis:// or rediss://"),
  /** Heartbeat comment interval on SSE streams; 30 s keeps proxies with 60 s idle timeouts open. */
  SSE_HEARTBEAT_MS: z.coerce.number().int().min(100).default(30_000),
  /** Multiplies the demo agent's pace; tests use 10+. */
  DEMO_AGENT_SPEED: z.coerce.number().positive().max(1000).default(1),
  /** Agent processes this server runs at once; a run that would exceed it is refused with 429. */
  MAX_RUNNING_AGENTS: z.coerce.number().int().min(1).default(30),
  /** Where agent stdout/stderr logs are kept. */
  RUNWATCH_DATA_DIR: z.string().default(path.join(process.cwd(), ".data")),
});

export type ServerEnv = z.infer<typeof serverEnvSchema>;

let cached: ServerEnv | undefined;

export function serverEnv(): ServerEnv {
  if (cached) return cached;
  const result = serverEnvSchema.safeParse(process.env);
  if (!result.success) {
    throw new Error(`Invalid server environment: ${describeZodError(result.error)}`);
  }
  cached = result.data;
  return cached;
}

/** The few variables of ours an agent process inherits; the server's secrets stay here. */
export function agentBaseEnv(): NodeJS.ProcessEnv {
  const { PATH, HOME, LANG, NODE_ENV } = process.env;
  return { PATH: PATH ?? "/usr/bin:/bin", HOME: HOME ?? "/", LANG: LANG ?? "C.UTF-8", NODE_ENV: NODE_ENV ?? "production" };
}
