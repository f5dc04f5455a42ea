/**
 * Entry point of one demo agent process (one variation). Built to dist/agent/cli.mjs by
 * `npm run build:agent`; the orchestrator starts one per variation.
 *
 * Exit codes: 0 completed, 1 failed after reporting it, 2 could not start (bad env, no Redis).
 */
import Redis from "ioredis";
import { hashString } from "./demo-script";
import { runDemoAgent } from "./demo-agent";
import { readAgentEnv } from "./env";
import { AgentPublisher } from "./publisher";

/** How long an agent that has finished waits for Redis to take its last messages. */
const FLUSH_TIMEOUT_MS = 120_000;

async function main(): Promise<number> {
  let env;
  try {
    env = readAgentEnv();
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 2;
  }
  const redis = new Redis(env.REDIS_URL, {
    // The publisher's outbox keeps and retries messages (bounded, in order); ioredis's own
    // offline queue would grow without limit, so commands fail fast while Redis is away.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectionName: `runwatch:agent:${env.RUNWATCH_RUN_ID}:${env.RUNWATCH_VARIATION_ID}`,
  });
  redis.on("error", (error: Error) => process.stderr.write(`redis: ${error.message}\n`));
  // Give the first connection a moment, so the outbox does not start by failing; if Redis is
  // down, the agent starts anyway and its outbox keeps the messages.
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 5_000);
    redis.once("ready", () => {
      clearTimeout(timer);
      resolve();
    });
  });
  const publisher = new AgentPublisher({
    redis,
    runId: env.RUNWATCH_RUN_ID,
    variationId: env.RUNWATCH_VARIATION_ID,
  });
  const seed = env.DEMO_AGENT_SEED ?? hashString(`${env.RUNWATCH_PROMPT}\u0000${env.RUNWATCH_VARIATION_ID}`);

  const stop = (signal: string) => {
    process.stderr.write(`received ${signal}, stopping\n`);
    void publisher.status("failed", { error: `stopped by ${signal}` });
    void publisher.flush(5_000).finally(() => process.exit(1));
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));

  try {
    await runDemoAgent(publisher, { prompt: env.RUNWATCH_PROMPT, seed, speed: env.DEMO_AGENT_SPEED });
    const unsent = await publisher.flush(FLUSH_TIMEOUT_MS);
    if (publisher.fatalError) {
      process.stderr.write(`demo agent: ${publisher.fatalError}; its messages were not published\n`);
      return 1;
    }
    if (unsent > 0) {
      process.stderr.write(`demo agent: Redis stayed unreachable for ${FLUSH_TIMEOUT_MS / 1000} s; ${unsent} message(s) never reached it\n`);
      return 1;
    }
    return 0;
  } catch (error) {
    const reason = (error as Error).message;
    process.stderr.write(`demo agent failed: ${reason}\n`);
    void publisher.status("failed", { error: reason });
    await publisher.flush(FLUSH_TIMEOUT_MS);
    return 1;
  } finally {
    await redis.quit().catch(() => redis.disconnect());
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`demo agent crashed: ${String(error)}\n`);
    process.exit(1);
  },
);
