/**
 * Control of a running run: pause, resume and stop, for one variation or all of them.
 *
 * A control message is appended to the run's control stream and published on
 * run:<id>:control in one atomic step (like agent messages, lib/publish.ts), so an agent that
 * was not listening at that moment (starting, reconnecting, an HTTP agent between requests)
 * finds it in the stream: agents follow the stream from its start, and apply each message
 * once, by its control_id. Agents acknowledge with a status carrying the control_id; the run
 * page waits for that (agent/control.ts).
 */
import "server-only";
import { channels, keys, runKeys } from "./channels";
import { serverEnv } from "./env";
import { ApiError } from "./errors";
import {
  controlMessageSchema,
  controlTargets,
  isTerminal,
  type ControlMessage,
  type ControlResponse,
  type Run,
  type VariationStatus,
} from "./events";
import { runLogger } from "./log";
import { recordMessageDelivered } from "./metrics";
import { getRedis, type RedisClient } from "./redis";
import { requireRun, requireRunId } from "./runs";
import { SseConnection } from "./sse-connection";
import { entryMessage, StreamFollower, type StreamEntry } from "./stream-follower";
import { getSubscriber } from "./subscriber";
import { parseCursor } from "./run-stream";

/** Control messages a run keeps; a run gets a handful, this bounds a runaway client. */
const CONTROL_STREAM_MAXLEN = 10_000;

/** KEYS: meta, control stream, then every key of the run (for expiry). ARGV: channel, json, maxlen. */
const CONTROL_SCRIPT = `
local ttl = tonumber(redis.call('HGET', KEYS[1], 'ttl_seconds'))
if not ttl then return redis.error_reply('NORUN run does not exist or has expired') end
local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'm', ARGV[2])
redis.call('PUBLISH', ARGV[1], '{"id":"' .. id .. '","message":' .. ARGV[2] .. '}')
for i = 1, #KEYS do redis.call('EXPIRE', KEYS[i], ttl) end
return id
`;

type WithControl = RedisClient & { runwatchControl(numKeys: number, ...args: string[]): Promise<string> };

function withScript(redis: RedisClient): WithControl {
  const client = redis as WithControl;
  // numberOfKeys is given per call: the run's key list may grow.
  if (typeof client.runwatchControl !== "function") redis.defineCommand("runwatchControl", { lua: CONTROL_SCRIPT });
  return client;
}

function newControlId(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return `ctl-${[...bytes].map((b) => "0123456789abcdefghijklmnopqrstuvwxyz"[b % 36]).join("")}`;
}

/** Which variations a control request is for; 404 for a variation the run lacks, 409 if they are all done. */
export function controlTargetsOf(run: Run, variationId: string | undefined): string[] {
  if (variationId !== undefined) {
    const variation = run.variations.find((v) => v.variation_id === variationId);
    if (!variation) {
      throw new ApiError("not_found", `Run ${run.run_id} has no variation ${variationId}; it has ${run.variations.map((v) => v.variation_id).join(", ")}`);
    }
    if (isTerminal(variation.status ?? undefined)) {
      throw new ApiError("conflict", `Variation ${variationId} of run ${run.run_id} has already ${describeEnd(variation.status!)}; there is nothing to control`);
    }
    return [variationId];
  }
  const open = run.variations.filter((v) => !isTerminal(v.status ?? undefined)).map((v) => v.variation_id);
  if (open.length === 0) throw new ApiError("conflict", `Run ${run.run_id} has already completed; there is nothing to control`);
  return open;
}

function describeEnd(status: VariationStatus): string {
  return status === "completed" ? "completed" : status === "stopped" ? "been stopped" : "failed";
}

/** POST /api/v1/runs/<id>/control: publish a control message; answers its id and who should acknowledge it. */
export async function sendControl(runIdParam: string, request: { action: ControlMessage["action"]; variation_id?: string }): Promise<ControlResponse> {
  const run = await requireRun(runIdParam);
  const targets = controlTargetsOf(run, request.variation_id);
  const message: ControlMessage = {
    control_id: newControlId(),
    run_id: run.run_id,
    action: request.action,
    variation_id: request.variation_id ?? null,
    timestamp: new Date().toISOString(),
  };
  const runKeyList = runKeys(run.run_id).filter((k) => k !== keys.runMeta(run.run_id) && k !== keys.runControl(run.run_id));
  const scriptKeys = [keys.runMeta(run.run_id), keys.runControl(run.run_id), ...runKeyList];
  try {
    await withScript(getRedis()).runwatchControl(scriptKeys.length, ...scriptKeys, channels.control(run.run_id), JSON.stringify(message), String(CONTROL_STREAM_MAXLEN));
  } catch (error) {
    if (error instanceof Error && error.message.includes("NORUN")) throw new ApiError("not_found", `Run ${run.run_id} not found (it may have expired)`);
    throw error;
  }
  return { control_id: message.control_id, variation_ids: targets };
}

/** An agent's control stream: the run's control messages for one variation (or all), from a cursor, then live. */
// Exported for its unit test (lib/control.test.ts); openControlStream is the way in.
export class ControlFollower extends StreamFollower {
  constructor(
    private readonly runId: string,
    private readonly variationId: string | null,
    connection: SseConnection,
    cursor: string | null,
  ) {
    super(connection, keys.runControl(runId), cursor, `control stream of ${runId}`);
  }

  protected accepts(channel: string): boolean {
    return channel === channels.control(this.runId);
  }

  protected handle(entry: StreamEntry): void {
    const message = this.parse(entry);
    if (!message) {
      runLogger(this.runId).warn({ entry_id: entry.id }, "control stream: skipped a malformed control message");
      return;
    }
    if (!this.isFor(message)) return;
    this.connection.sendFrame("control", message, entry.id);
    // Entries read back from the stream carry no channel: that is history, not live.
    recordMessageDelivered("control", message.timestamp, entry.channel ? "live" : "replay");
  }

  /**
   * Published live but sent from the history (it came while this stream caught up): still a
   * live message, so its delivery latency is observed, as RunStream does for the run's stream.
   */
  protected override sentFromHistory(entry: StreamEntry): void {
    const message = this.parse(entry);
    if (message && this.isFor(message)) recordMessageDelivered("control", message.timestamp, "live");
  }

  /** The entry's control message, or null if it is malformed or for another run. */
  private parse(entry: StreamEntry): ControlMessage | null {
    const parsed = controlMessageSchema.safeParse(entryMessage(entry));
    return parsed.success && parsed.data.run_id === this.runId ? parsed.data : null;
  }

  /** Is `message` for this stream's variation (all of them, without one)? */
  private isFor(message: ControlMessage): boolean {
    return this.variationId === null || controlTargets(message, this.variationId);
  }
}

/**
 * GET /api/v1/runs/<id>/control/stream, for agents holding the run's token (the route checks
 * it). With ?variation_id, only that variation's messages.
 */
export async function openControlStream(run: Run, variationId: string | null, signal: AbortSignal, lastEventId: string | null): Promise<Response> {
  const runId = requireRunId(run.run_id);
  const cursor = parseCursor(lastEventId);
  if (variationId !== null && !run.variations.some((v) => v.variation_id === variationId)) {
    throw new ApiError("not_found", `Run ${runId} has no variation ${variationId}`);
  }
  const connection = new SseConnection(signal, { backend: "control", runId, variationId });
  connection.start("redis", serverEnv().SSE_HEARTBEAT_MS);
  const follower = new ControlFollower(runId, variationId, connection, cursor);
  try {
    const unsubscribe = await getSubscriber().subscribe(channels.runPattern(runId), follower.onPublished, { onGap: () => connection.close() });
    connection.onClose(() => void unsubscribe());
  } catch (error) {
    connection.close();
    throw error;
  }
  void (async () => {
    await follower.replay();
    follower.goLive();
  })().catch((error: Error) => {
    runLogger(runId, variationId).warn({ err: error }, "control stream: replay failed; ending it so the agent resumes");
    connection.close();
  });
  return connection.response;
}

/**
 * POST /api/v1/runs/<id>/heartbeat from an agent over HTTP (the route checks its token): it
 * cannot reach Redis to renew its heartbeat key itself, so the server does it for each beat.
 */
export async function recordHeartbeat(run: Run, variationId: string): Promise<void> {
  if (!run.variations.some((v) => v.variation_id === variationId)) {
    throw new ApiError("not_found", `Run ${run.run_id} has no variation ${variationId}`);
  }
  await renewHeartbeat(run.run_id, variationId);
}

/**
 * Renew (or, for an agent that said goodbye, end) a variation's heartbeat key: for agents over
 * HTTP each POST, for agents on Redis each heartbeat entry of their inbox (lib/ingest.ts).
 * The caller has checked that the run has this variation.
 */
export async function renewHeartbeat(runId: string, variationId: string, beatAt = new Date(), gone = false): Promise<void> {
  const key = keys.agentHeartbeat(runId, variationId);
  if (gone) await getRedis().del(key);
  else await getRedis().set(key, beatAt.toISOString(), "EX", serverEnv().AGENT_HEARTBEAT_TTL_SECONDS);
}
