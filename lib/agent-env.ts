/**
 * The environment of one variation's agent runner (agent/cli.ts), wherever it runs: a child
 * process of this server or a Kubernetes Job. README, "Agent environment", lists it.
 */
import "server-only";
import { agentApiUrl, serverEnv } from "./env";
import { expandCommand, expandEnv, type Preset } from "./presets";
import type { NewRun } from "./runs";

/**
 * What one variation's runner is told (README, "Agent environment"). Only what it needs: the
 * server's own secrets stay here, except those a preset names explicitly with ${NAME}.
 * `redisEnv` names the Redis deployment (lib/env.ts agentRedisEnv: REDIS_URL, or the Sentinel
 * or Cluster variables), for agents that publish to Redis.
 */
export function agentEnvFor(run: NewRun, index: number, preset: Preset, redisEnv: Record<string, string>): Record<string, string> {
  const env = serverEnv();
  const variationId = run.variationIds[index]!;
  const base: Record<string, string> = {
    RUNWATCH_RUN_ID: run.runId,
    RUNWATCH_VARIATION_ID: variationId,
    RUNWATCH_PROMPT: run.prompt,
    RUNWATCH_PRESET: preset.name,
    RUNWATCH_HEARTBEAT_TTL_SECONDS: String(env.AGENT_HEARTBEAT_TTL_SECONDS),
    DEMO_AGENT_SPEED: String(env.DEMO_AGENT_SPEED),
    ...(preset.transport === "http"
      ? { RUNWATCH_API_URL: agentApiUrl(env), RUNWATCH_AGENT_TOKEN: run.agentToken }
      : redisEnv),
  };
  const presetEnv = expandEnv(preset.env, process.env, preset.name);
  if (!preset.command) return { ...presetEnv, ...base };
  return {
    ...presetEnv,
    ...base,
    RUNWATCH_AGENT_COMMAND: JSON.stringify(expandCommand(preset.command, { prompt: run.prompt, runId: run.runId, variationId })),
    // Relative to the runner's own folder: this server's locally, the image's WORKDIR on Kubernetes.
    ...(preset.cwd ? { RUNWATCH_AGENT_CWD: preset.cwd } : {}),
    RUNWATCH_STOP_GRACE_SECONDS: String(preset.stop_grace_seconds),
  };
}

