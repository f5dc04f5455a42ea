/**
 * Runs as stored in Redis: creation, lookup and listing. Variation statuses come from the hash
 * agents update when they publish a status (see lib/publish.ts).
 */
import "server-only";
import { hashAgentToken, newAgentToken } from "./agent-tokens";
import { channels, keys } from "./channels";
import { serverEnv } from "./env";
import { ApiError } from "./errors";
import {
  isTerminal,
  variationStatusSchema,
  type CreateRunRequest,
  type Run,
  type VariationStatus,
} from "./events";
import { isRunId, newRunId, variationIds } from "./ids";
import { startIngest } from "./ingest";
import { getRedis } from "./redis";

/** 400 for anything that is not an id we issue, before it can reach a Redis pattern. */
export function requireRunId(value: string): string {
  if (!isRunId(value)) {
    throw new ApiError("bad_request", `Invalid run id "${value.slice(0, 80)}": expected run- followed by 12 lowercase letters or digits`);
  }
  return value;
}

export interface NewRun {
  runId: string;
  prompt: string;
  /** The preset of each variation, in the order of variationIds. */
  agents: string[];
  variationIds: string[];
  createdAt: string;
  /** Handed to the run's agents; only its hash is stored. */
  agentToken: string;
}

export async function createRun(request: CreateRunRequest): Promise<NewRun> {
  const runId = newRunId();
  const run: NewRun = {
    runId,
    prompt: request.prompt,
    agents: request.agents,
    variationIds: variationIds(request.agents.length),
    createdAt: new Date().toISOString(),
    agentToken: newAgentToken(runId),
  };
  const { RUN_TTL_SECONDS, RUN_STREAM_MAXLEN } = serverEnv();
  const redis = getRedis();
  // Three steps, not one MULTI: on Redis Cluster a transaction must stay in one slot, and the
  // index is not in the run's. Meta first, so a run in the index always has its meta (until it
  // expires), and the feed hears of the run once it is listed.
  await redis
    .multi()
    .hset(keys.runMeta(run.runId), {
      prompt: run.prompt,
      agent: run.agents[0]!,
      agents: run.agents.join(","),
      variations: run.variationIds.join(","),
      created_at: run.createdAt,
      agent_token_sha256: hashAgentToken(run.agentToken),
      // Read by the publish script: agents need not know them.
      ttl_seconds: RUN_TTL_SECONDS,
      stream_maxlen: RUN_STREAM_MAXLEN,
    })
    // A run nobody ever publishes to expires too; each message pushes this back.
    .expire(keys.runMeta(run.runId), RUN_TTL_SECONDS)
    // The agents' inbox exists from the start, empty (an entry added and trimmed away): agents
    // append with NOMKSTREAM, which is how they learn that a run does not exist.
    .xadd(keys.runInbox(run.runId), "*", "created", "1")
    .xtrim(keys.runInbox(run.runId), "MAXLEN", 0)
    .expire(keys.runInbox(run.runId), RUN_TTL_SECONDS)
    .exec();
  // This instance will publish what the run's agents send (idempotent; also started by
  // instrumentation-node.ts, which tests and scripts calling lib/ directly do not run).
  startIngest();
  await redis.zadd(keys.runsIndex(), Date.parse(run.createdAt), run.runId);
  await redis.publish(channels.runsChanged(), JSON.stringify({ run_id: run.runId, change: "created" }));
  return run;
}

function toRun(runId: string, meta: Record<string, string>, rawStatuses: Record<string, string>): Run | null {
  if (!meta.created_at || !meta.variations) return null;
  const agents = (meta.agents ?? "").split(",");
  const variations = meta.variations.split(",").map((variationId, i) => {
    const parsed = variationStatusSchema.safeParse(rawStatuses[variationId]);
    return { variation_id: variationId, status: parsed.success ? parsed.data : null, agent: agents[i] || meta.agent || "unknown" };
  });
  const finished = variations.every((v) => isTerminal(v.status ?? undefined));
  return {
    run_id: runId,
    prompt: meta.prompt ?? "",
    agent: meta.agent ?? "unknown",
    created_at: meta.created_at,
    status: finished ? "completed" : "running",
    variations,
    winner: meta.winner || null,
  };
}

export async function getRun(runId: string): Promise<Run | null> {
  const [meta, statuses] = await Promise.all([
    getRedis().hgetall(keys.runMeta(runId)),
    getRedis().hgetall(keys.runVariations(runId)),
  ]);
  return toRun(runId, meta, statuses);
}

export async function requireRun(runId: string): Promise<Run> {
  const run = await getRun(requireRunId(runId));
  if (!run) throw new ApiError("not_found", `Run ${runId} not found`);
  return run;
}

export const RUNS_PAGE_SIZE = 50;

/** Newest first. */
export async function listRuns(limit = RUNS_PAGE_SIZE): Promise<Run[]> {
  const redis = getRedis();
  const ids = await redis.zrevrange(keys.runsIndex(), 0, limit - 1);
  if (ids.length === 0) return [];
  // One pipeline per run, not one for all: on Redis Cluster a pipeline must stay on one node,
  // and runs hash to different slots (their ids are their hash tags). Sent at once, they are
  // all in flight together, as one pipeline's commands would be.
  const results = await Promise.all(ids.map((id) => redis.pipeline().hgetall(keys.runMeta(id)).hgetall(keys.runVariations(id)).exec()));
  const runs: Run[] = [];
  const expired: string[] = [];
  ids.forEach((id, i) => {
    const meta = results[i]?.[0]?.[1] as Record<string, string> | undefined;
    const statuses = results[i]?.[1]?.[1] as Record<string, string> | undefined;
    const run = meta && statuses ? toRun(id, meta, statuses) : null;
    if (run) runs.push(run);
    else if (meta && Object.keys(meta).length === 0) expired.push(id);
  });
  // A member of a sorted set cannot expire with its run: drop runs whose keys are gone.
  if (expired.length > 0) await redis.zrem(keys.runsIndex(), ...expired);
  return runs;
}

export function statusesOf(run: Run): Record<string, VariationStatus | undefined> {
  return Object.fromEntries(run.variations.map((v) => [v.variation_id, v.status ?? undefined]));
}

/**
 * Records the winner only while the run's meta hash still exists: a run expiring between our
 * read and this write must not be brought back as a meta hash with no TTL (HSET on a missing
 * key creates it without one). The feed is told from the same script, so it hears of a
 * choice only if it was stored.
 */
const SELECT_WINNER_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'winner', ARGV[1], 'winner_selected_at', ARGV[2])
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1
`;

/**
 * Choose the run's best variation. Only a complete run: a variation still running might yet
 * do better. Selecting again replaces the choice (a user may change their mind).
 */
export async function selectWinner(runId: string, variationId: string): Promise<Run> {
  const run = await requireRun(runId);
  const ids = run.variations.map((v) => v.variation_id);
  if (!ids.includes(variationId)) {
    throw new ApiError("not_found", `Variation "${variationId}" is not part of run ${run.run_id}; its variations are ${ids.join(", ")}`);
  }
  if (run.status !== "completed") {
    const unfinished = run.variations.filter((v) => !isTerminal(v.status ?? undefined)).map((v) => v.variation_id);
    throw new ApiError(
      "conflict",
      `Cannot select a winner for run ${run.run_id} yet (${unfinished.join(", ")} not finished): the run is still running; select a winner once every variation has finished`,
    );
  }
  const stored = await getRedis().eval(
    SELECT_WINNER_SCRIPT,
    1,
    keys.runMeta(run.run_id),
    variationId,
    new Date().toISOString(),
    channels.runsChanged(),
    JSON.stringify({ run_id: run.run_id, change: "winner" }),
  );
  if (stored !== 1) throw new ApiError("not_found", `Run ${run.run_id} not found (it expired)`);
  // A complete run's statuses are final, so only the winner differs from what we read.
  return { ...run, winner: variationId };
}
