/**
 * The agent runner: one process per variation, started by the orchestrator. Built to
 * dist/agent/cli.mjs by `npm run build:agent`.
 *
 * It plays the built-in demo agent, or runs a preset's command (RUNWATCH_AGENT_COMMAND) and
 * turns its stdout into output and its stderr into logs. Either way it publishes through the
 * transport its environment names (Redis, or HTTP with the run's agent token), obeys pause,
 * resume and stop, and keeps its heartbeat alive until it exits.
 *
 * Exit codes: 0 completed or stopped, 1 failed after reporting it, 2 could not start (bad env).
 */
import { runCommandAgent } from "./command-agent";
import { AgentControl } from "./control";
import { hashString } from "./demo-script";
import { runDemoAgent } from "./demo-agent";
import { redisTargetOf } from "../lib/redis-connect";
import { readAgentEnv, type AgentEnv } from "./env";
import { AgentPublisher } from "./publisher";
import { httpTransport, redisTransport, type AgentTransport } from "./transport";

/** How long an agent that has finished waits for its last messages to be taken. */
const FLUSH_TIMEOUT_MS = 120_000;

const log = (line: string) => process.stderr.write(`${line}\n`);

/**
 * The command's own environment: ours, minus how we reach Runwatch. The program is the agent's
 * work, not its plumbing: it has no business with the Redis URL or the run's token.
 */
function commandEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ["REDIS_URL", "REDIS_TLS_CA_FILE", "REDIS_SENTINELS", "REDIS_SENTINEL_NAME", "REDIS_CLUSTER_NODES", "RUNWATCH_API_URL", "RUNWATCH_AGENT_TOKEN", "RUNWATCH_AGENT_COMMAND", "RUNWATCH_AGENT_CWD", "RUNWATCH_STOP_GRACE_SECONDS", "RUNWATCH_HEARTBEAT_TTL_SECONDS", "DEMO_AGENT_SPEED", "DEMO_AGENT_SEED"]) {
    delete env[name];
  }
  return env;
}

async function connect(env: AgentEnv): Promise<AgentTransport> {
  const options = { runId: env.RUNWATCH_RUN_ID, variationId: env.RUNWATCH_VARIATION_ID, heartbeatTtlSeconds: env.RUNWATCH_HEARTBEAT_TTL_SECONDS, log };
  const redis = redisTargetOf(env);
  if (redis) return redisTransport(redis, options);
  return httpTransport({ ...options, apiUrl: env.RUNWATCH_API_URL!, token: env.RUNWATCH_AGENT_TOKEN! });
}

type Outcome = { status: "completed" } | { status: "stopped" } | { status: "failed"; error: string; exitCode: number | null };

/** The command's process group, once spawned: signals to the runner do not reach it by themselves. */
let commandPid: number | null = null;

/**
 * End a command's process group as a stop does: SIGCONT first (a paused process would sit on
 * its SIGTERM), SIGTERM, then SIGKILL if it is still there after the grace period.
 */
async function terminateGroup(pid: number, graceMs: number): Promise<void> {
  const signal = (sig: NodeJS.Signals | 0): boolean => {
    try {
      process.kill(-pid, sig);
      return true;
    } catch {
      return false; // the group is gone
    }
  };
  signal("SIGCONT");
  signal("SIGTERM");
  const deadline = Date.now() + graceMs;
  while (signal(0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  signal("SIGKILL");
}

async function work(env: AgentEnv, publisher: AgentPublisher, control: AgentControl): Promise<Outcome> {
  if (env.RUNWATCH_AGENT_COMMAND) {
    return runCommandAgent(publisher, control, {
      argv: env.RUNWATCH_AGENT_COMMAND,
      cwd: env.RUNWATCH_AGENT_CWD ?? process.cwd(),
      env: commandEnv(),
      stopGraceMs: env.RUNWATCH_STOP_GRACE_SECONDS * 1000,
      log,
      onSpawn: (pid) => {
        commandPid = pid;
      },
    });
  }
  const seed = env.DEMO_AGENT_SEED ?? hashString(`${env.RUNWATCH_PROMPT}\u0000${env.RUNWATCH_VARIATION_ID}`);
  const status = await runDemoAgent(publisher, { prompt: env.RUNWATCH_PROMPT, seed, speed: env.DEMO_AGENT_SPEED }, control);
  return { status };
}

async function main(): Promise<number> {
  let env: AgentEnv;
  try {
    env = readAgentEnv();
  } catch (error) {
    log((error as Error).message);
    return 2;
  }
  const transport = await connect(env);
  const publisher = new AgentPublisher({ sink: transport.sink, runId: env.RUNWATCH_RUN_ID, variationId: env.RUNWATCH_VARIATION_ID, log });
  const control = new AgentControl(publisher, env.RUNWATCH_VARIATION_ID, log);

  /** Set once a final status is queued: there is only one. */
  let finalStatus = false;
  const interrupted = (signal: NodeJS.Signals) => {
    log(`received ${signal}, stopping`);
    void (async () => {
      await control.close();
      if (commandPid !== null) await terminateGroup(commandPid, env.RUNWATCH_STOP_GRACE_SECONDS * 1000);
      if (!finalStatus && !control.stopRequested) {
        finalStatus = true;
        void publisher.status("failed", { error: `the agent runner was stopped by ${signal}` });
      }
      await publisher.flush(5_000);
      process.exit(1);
    })();
  };
  process.once("SIGTERM", () => interrupted("SIGTERM"));
  process.once("SIGINT", () => interrupted("SIGINT"));

  try {
    void publisher.status("starting");
    transport.control.start(control.handle);
    transport.startHeartbeat();
    let outcome: Outcome;
    try {
      outcome = await work(env, publisher, control);
    } catch (error) {
      outcome = { status: "failed", error: `the agent runner failed: ${(error as Error).message}`, exitCode: null };
    }
    // A stop is acknowledged (with its `stopped` status) by AgentControl; wait for that, and
    // take no control message after the final status.
    await control.close();
    if (!control.stopRequested && !finalStatus) {
      finalStatus = true;
      if (outcome.status === "failed") void publisher.status("failed", { error: outcome.error, ...(outcome.exitCode !== null ? { exit_code: outcome.exitCode } : {}) });
      else void publisher.status("completed");
    }
    const unsent = await publisher.flush(FLUSH_TIMEOUT_MS);
    if (publisher.fatalError) {
      log(`agent: ${publisher.fatalError}; its messages were not published`);
      return 1;
    }
    if (unsent > 0) {
      log(`agent: Runwatch stayed unreachable (${transport.name}) for ${FLUSH_TIMEOUT_MS / 1000} s; ${unsent} message(s) never reached it`);
      return 1;
    }
    return outcome.status === "failed" && !control.stopRequested ? 1 : 0;
  } finally {
    await transport.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    log(`agent runner crashed: ${String(error)}`);
    process.exit(1);
  },
);
