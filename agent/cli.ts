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

async function main(): Promise<number> {
  let env;
  try {
    env = readAgentEnv();
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 2;
  }
  const redis = new Redis(env.REDIS_URL, {
    maxRetriesPerRequest: 3,
    connectionName: `runwatch:agent:${env.RUNWATCH_RUN_ID}:${env.RUNWATCH_VARIATION_ID}`,
  });
  redis.on("error", (error: Error) => process.stderr.write(`redis: ${error.message}\n`));
  const publisher = new AgentPublisher({
    redis,
    runId: env.RUNWATCH_RUN_ID,
    variationId: env.RUNWATCH_VARIATION_ID,
  });
  const seed = env.DEMO_AGENT_SEED ?? hashString(`${env.RUNWATCH_PROMPT}\u0000${env.RUNWATCH_VARIATION_ID}`);

  const stop = (signal: string) => {
    process.stderr.write(`received ${signal}, stopping\n`);
    void publisher
      .status("failed", { error: `stopped by ${signal}` })
      .finally(() => process.exit(1));
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));

  try {
    await runDemoAgent(publisher, { prompt: env.RUNWATCH_PROMPT, seed, speed: env.DEMO_AGENT_SPEED });
    return 0;
  } catch (error) {
    const reason = (error as Error).message;
    process.stderr.write(`demo agent failed: ${reason}\n`);
    await publisher.status("failed", { error: reason }).catch(() => undefined);
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
