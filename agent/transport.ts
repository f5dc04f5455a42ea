/**
 * How an agent runner reaches Runwatch: straight to Redis, or over HTTP with its run's token
 * (for agents on another network or in a locked-down cluster). Either way it gets the same
 * three things: a sink for its messages, its control messages, and a heartbeat.
 */
import { createParser } from "eventsource-parser";
import { keys } from "../lib/channels";
import { controlMessageSchema, MAX_EVENTS_BATCH, type ControlMessage } from "../lib/events";
import { FatalPublishError } from "../lib/publish";
import { createRedisClient, type RedisClient, type RedisTarget } from "../lib/redis-connect";
import type { ControlFeed } from "./control";
import type { SendBatch } from "./publish-queue";
import { sendHeartbeat, sendToInbox } from "../lib/inbox";
import { parseJson } from "../lib/json";

export interface AgentTransport {
  readonly name: "redis" | "http";
  readonly sink: { send: SendBatch; batchSize: number; maxBatchBytes?: number };
  readonly control: ControlFeed;
  /** Keep the agent's heartbeat alive until `close()`. */
  startHeartbeat(): void;
  close(): Promise<void>;
}

export interface TransportOptions {
  runId: string;
  variationId: string;
  heartbeatTtlSeconds: number;
  log: (line: string) => void;
}

function parseControl(raw: string): ControlMessage | null {
  const parsed = controlMessageSchema.safeParse(parseJson(raw));
  return parsed.success ? parsed.data : null;
}

// ---- Redis ------------------------------------------------------------------------------

/**
 * Control over Redis: a blocking XREAD on the run's control stream, on a connection of its
 * own (a blocked connection runs nothing else). Reading the stream from the last entry applied
 * means a message sent while the agent was starting or disconnected is still applied, in
 * order, once. XREAD rather than SUBSCRIBE: the restricted agent user may read the control
 * stream but not subscribe to anything (README, "Redis users").
 */
class RedisControlFeed implements ControlFeed {
  private lastId = "0";
  private closed = false;
  private running: Promise<void> | null = null;

  constructor(
    private readonly reader: RedisClient,
    private readonly options: TransportOptions,
  ) {}

  start(onMessage: (message: ControlMessage) => void): void {
    this.running = this.loop(onMessage);
  }

  private async loop(onMessage: (message: ControlMessage) => void): Promise<void> {
    const key = keys.runControl(this.options.runId);
    let delay = 250;
    while (!this.closed) {
      try {
        const reply = await this.reader.xread("COUNT", 100, "BLOCK", 5_000, "STREAMS", key, this.lastId);
        delay = 250;
        for (const [, entries] of reply ?? []) {
          for (const [id, fields] of entries) {
            this.lastId = id;
            const message = parseControl(fields[fields.indexOf("m") + 1] ?? "");
            if (message) onMessage(message);
          }
        }
      } catch (error) {
        if (this.closed) return;
        // Redis away: ioredis reconnects; read again from the last entry applied.
        if (delay === 250) this.options.log(`runwatch agent: reading control messages failed (${(error as Error).message}); retrying`);
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(delay * 2, 5_000);
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    // A blocked XREAD would hold quit() for up to its timeout. While Redis is unreachable
    // ioredis keeps the XREAD queued and disconnect() never fails it: do not wait for it.
    this.reader.disconnect();
    await Promise.race([this.running, new Promise((resolve) => setTimeout(resolve, 1_000).unref())]);
  }
}

/**
 * To Redis: one server, through Sentinel or to a Cluster (lib/redis-connect.ts), as the server
 * does. Messages and heartbeats go to the run's inbox (lib/inbox.ts); the server checks and
 * publishes them. Every command here is one the restricted agent user may run.
 */
export async function redisTransport(target: RedisTarget, options: TransportOptions): Promise<AgentTransport> {
  const name = `runwatch:agent:${options.runId}:${options.variationId}`;
  // ioredis's ready check runs INFO, which the agent user may not (it says nothing an agent needs).
  const redis = createRedisClient(target, {
    // The publisher's outbox keeps and retries messages (bounded, in order); ioredis's own
    // offline queue would grow without limit, so commands fail fast while Redis is away.
    enableOfflineQueue: false,
    enableReadyCheck: false,
    maxRetriesPerRequest: 1,
    connectionName: name,
  });
  redis.on("error", (error: Error) => options.log(`redis: ${error.message}`));
  const reader = createRedisClient(target, { connectionName: `${name}:control`, enableReadyCheck: false, maxRetriesPerRequest: null });
  reader.on("error", () => {}); // the main connection reports the same trouble
  // Give the first connection a moment, so the outbox does not start by failing; if Redis is
  // down, the agent starts anyway and its outbox keeps the messages.
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 5_000);
    redis.once("ready", () => {
      clearTimeout(timer);
      resolve();
    });
  });
  let heartbeat: NodeJS.Timeout | undefined;
  const beat = (gone = false) => sendHeartbeat(redis, options.runId, options.variationId, gone).catch(() => {});
  const control = new RedisControlFeed(reader, options);
  return {
    name: "redis",
    // Pipelined: one round trip per batch, whose entries share the run's slot.
    sink: { send: sendToInbox(redis, options.runId), batchSize: 100, maxBatchBytes: 1024 * 1024 },
    control,
    startHeartbeat() {
      void beat();
      heartbeat = setInterval(() => void beat(), (options.heartbeatTtlSeconds * 1000) / 3);
    },
    async close() {
      clearInterval(heartbeat);
      // Gone is gone: say so now rather than when the key lapses.
      await beat(true);
      await control.close();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

// ---- HTTP -------------------------------------------------------------------------------

export interface HttpTransportOptions extends TransportOptions {
  apiUrl: string;
  token: string;
}

/** Answers that retrying will not change. */
const FATAL_STATUSES = new Set([400, 401, 403, 404, 413, 422]);

async function describeAnswer(response: Response): Promise<string> {
  const body = (await response.json().catch(() => null)) as { error?: { message?: string } } | null;
  return `HTTP ${response.status}${body?.error?.message ? `: ${body.error.message}` : ""}`;
}

function httpSink(options: HttpTransportOptions): SendBatch {
  const url = new URL(`/api/v1/runs/${options.runId}/events`, options.apiUrl);
  return async (messages) => {
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${options.token}` },
      body: JSON.stringify({ messages }),
      signal: AbortSignal.timeout(30_000),
    });
    if (response.ok) {
      await response.body?.cancel();
      return;
    }
    const reason = await describeAnswer(response);
    if (FATAL_STATUSES.has(response.status)) throw new FatalPublishError(`Runwatch refused the messages (${reason})`);
    throw new Error(reason); // 429, 5xx: try again later
  };
}

/**
 * Control over HTTP: GET .../control/stream, an SSE stream that replays from Last-Event-ID,
 * so after a dropped connection the agent resumes where it was.
 */
class HttpControlFeed implements ControlFeed {
  private lastId: string | null = null;
  private readonly abort = new AbortController();
  private running: Promise<void> | null = null;

  constructor(private readonly options: HttpTransportOptions) {}

  start(onMessage: (message: ControlMessage) => void): void {
    this.running = this.loop(onMessage);
  }

  private async loop(onMessage: (message: ControlMessage) => void): Promise<void> {
    const url = new URL(`/api/v1/runs/${this.options.runId}/control/stream`, this.options.apiUrl);
    url.searchParams.set("variation_id", this.options.variationId);
    let delay = 250;
    while (!this.abort.signal.aborted) {
      try {
        const response = await fetch(url, {
          headers: { Authorization: `Bearer ${this.options.token}`, Accept: "text/event-stream", ...(this.lastId ? { "Last-Event-ID": this.lastId } : {}) },
          signal: this.abort.signal,
        });
        if (!response.ok || !response.body) {
          const reason = await describeAnswer(response);
          if (FATAL_STATUSES.has(response.status)) {
            this.options.log(`runwatch agent: the control stream was refused (${reason}); pause and stop will not reach this agent`);
            return;
          }
          throw new Error(reason);
        }
        delay = 250;
        const parser = createParser({
          onEvent: (event) => {
            if (event.event !== "control") return;
            const message = parseControl(event.data);
            if (!message) return;
            if (event.id) this.lastId = event.id;
            onMessage(message);
          },
        });
        const decoder = new TextDecoder();
        const reader = response.body.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          parser.feed(decoder.decode(value, { stream: true }));
        }
      } catch (error) {
        if (this.abort.signal.aborted) return;
        this.options.log(`runwatch agent: control stream: ${(error as Error).message}; reconnecting`);
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 5_000);
    }
  }

  async close(): Promise<void> {
    this.abort.abort();
    await this.running;
  }
}

export function httpTransport(options: HttpTransportOptions): AgentTransport {
  const control = new HttpControlFeed(options);
  let heartbeat: NodeJS.Timeout | undefined;
  return {
    name: "http",
    // Well under the route's 4 MiB body limit, whatever the messages' sizes.
    sink: { send: httpSink(options), batchSize: Math.min(100, MAX_EVENTS_BATCH), maxBatchBytes: 1024 * 1024 },
    control,
    // Beats come from the agent's own event loop (a hung agent stops beating), not from an open connection.
    startHeartbeat() {
      const url = new URL(`/api/v1/runs/${options.runId}/heartbeat`, options.apiUrl);
      const beat = () =>
        void fetch(url, {
          method: "POST",
          headers: { "Content-Type": "application/json", Authorization: `Bearer ${options.token}` },
          body: JSON.stringify({ variation_id: options.variationId }),
          signal: AbortSignal.timeout(10_000),
        })
          .then((r) => r.body?.cancel())
          .catch(() => {}); // unreachable: the page will say unresponsive, which is then true
      beat();
      heartbeat = setInterval(beat, (options.heartbeatTtlSeconds * 1000) / 3);
    },
    async close() {
      clearInterval(heartbeat);
      await control.close();
    },
  };
}
