/**
 * Helpers for integration tests: a real Redis client, run creation, and an SSE reader that
 * parses route responses with a spec-complete parser (what a browser would see).
 */
import { createParser, type EventSourceMessage, type ParserCallbacks } from "eventsource-parser";
import Redis from "ioredis";
import { afterAll, beforeAll } from "vitest";
import { GET as redisStreamRoute } from "@/app/api/v1/runs/[runId]/stream/redis/route";
import { GET as logStreamRoute } from "@/app/api/v1/runs/[runId]/stream/route";
import { AgentPublisher } from "@/agent/publisher";
import { channels } from "@/lib/channels";
import { closeRedis, getSubscriberConnection, type RedisClient } from "@/lib/redis";
import { getSubscriber } from "@/lib/subscriber";
import { createRun, type NewRun } from "@/lib/runs";

export function testRedis(): Redis {
  const url = process.env.REDIS_URL;
  if (!url) throw new Error("REDIS_URL is not set: vitest's global setup starts redis-server");
  return new Redis(url, { maxRetriesPerRequest: 1 });
}

/**
 * A test client for the suite, closed afterwards together with the app's own connections.
 * Call at the top of a test file; use the returned getter inside tests.
 */
export function setupTestRedis(): () => Redis {
  let client: Redis | undefined;
  beforeAll(() => {
    client = testRedis();
  });
  afterAll(async () => {
    await client?.quit();
    await closeRedis();
  });
  return () => {
    if (!client) throw new Error("setupTestRedis() client used outside a test");
    return client;
  };
}

export async function newRun(variations = 2): Promise<NewRun> {
  return createRun({ prompt: "integration test", agents: Array.from({ length: variations }, () => "demo") });
}

/**
 * The app's subscriber connection, for suites that reach into its socket: they run on one
 * redis-server, where it is a plain connection (a Cluster's has no single socket).
 */
export function subscriberConnection(): Redis {
  const connection = getSubscriberConnection();
  if (!(connection instanceof Redis)) throw new Error("the app's subscriber is not a single-server connection (REDIS_CLUSTER_NODES is set)");
  return connection;
}

/**
 * Pattern subscriptions Redis counts for this process's subscriber connection (found by its
 * port in CLIENT LIST): PUBSUB NUMPAT counts every test file's, and they run in parallel.
 */
export async function ownPatternSubscriptions(redis: Redis): Promise<number> {
  const port = subscriberConnection().stream?.localPort;
  const list = (await redis.client("LIST")) as string;
  const line = list.split("\n").find((l) => l.includes(`:${port} `) && l.includes("name=runwatch:subscriber"));
  // The ingestor's one pattern (lib/ingest.ts) stays while the process lives: not a viewer's.
  const ingest = getSubscriber().activePatterns().includes(channels.allInboxWakes()) ? 1 : 0;
  return Number(/ psub=(\d+)/.exec(line ?? "")?.[1] ?? 0) - ingest;
}

/** The app subscriber's patterns that viewers hold (the ingestor's left out). */
export function viewerPatterns(): string[] {
  return getSubscriber().activePatterns().filter((pattern) => pattern !== channels.allInboxWakes());
}

/** A publisher per variation, writing its JSON lines nowhere. */
export function publishers(redis: RedisClient, run: NewRun): AgentPublisher[] {
  return run.variationIds.map((variationId) => new AgentPublisher({ sink: redis, runId: run.runId, variationId, writeLine: () => {} }));
}

/** Events about the connection (and agent liveness, which is not history); kept apart so tests can count run events. */
const CONNECTION_EVENTS = new Set(["stream_open", "heartbeat", "agent_liveness"]);

export interface SseReader {
  /** Run events, in order (stream_open and heartbeat excluded). */
  events: EventSourceMessage[];
  /** stream_open and heartbeat events. */
  connectionEvents: EventSourceMessage[];
  comments: string[];
  /** Resolves once `count` events (matching `filter`) have arrived in total. */
  waitForEvents(count: number, filter?: (e: EventSourceMessage) => boolean, timeoutMs?: number): Promise<EventSourceMessage[]>;
  waitForComment(text: string, timeoutMs?: number): Promise<void>;
  waitForConnectionEvent(name: string, timeoutMs?: number): Promise<EventSourceMessage>;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  abort(): void;
}

function waitUntil(check: () => boolean, describe: () => string, timeoutMs: number, wake: Set<() => void>): Promise<void> {
  return new Promise((resolve, reject) => {
    if (check()) return resolve();
    const onChange = () => {
      if (!check()) return;
      clearTimeout(timer);
      wake.delete(onChange);
      resolve();
    };
    const timer = setTimeout(() => {
      wake.delete(onChange);
      reject(new Error(`timed out after ${timeoutMs} ms: ${describe()}`));
    }, timeoutMs);
    wake.add(onChange);
  });
}

export type Backend = "redis" | "kubectl";

/** Calls a stream route handler the way Next would and reads its SSE body. */
/**
 * A viewer of a run's stream. By default it calls the route handler the way Next would; given
 * `baseUrl`, it asks that HTTP server instead (lib/node-stream.ts behind a real socket).
 */
export async function openStream(runId: string, backend: Backend = "redis", lastEventId?: string, baseUrl?: string): Promise<{ response: Response; reader: SseReader | null }> {
  const controller = new AbortController();
  const path = backend === "redis" ? "stream/redis" : "stream";
  const headers = lastEventId ? { "Last-Event-ID": lastEventId } : undefined;
  const url = `${baseUrl ?? "http://localhost"}/api/v1/runs/${encodeURIComponent(runId)}/${path}`;
  const route = backend === "redis" ? redisStreamRoute : logStreamRoute;
  const response = baseUrl
    ? await fetch(url, { signal: controller.signal, headers })
    : await route(new Request(url, { signal: controller.signal, headers }), { params: Promise.resolve({ runId }) });
  if (!response.ok || !response.body) return { response, reader: null };

  const events: EventSourceMessage[] = [];
  const connectionEvents: EventSourceMessage[] = [];
  const comments: string[] = [];
  const wake = new Set<() => void>();
  const notify = () => [...wake].forEach((fn) => fn());
  const { ended, cancel } = readSseBody(response, {
    onEvent: (event) => {
      (CONNECTION_EVENTS.has(event.event ?? "") ? connectionEvents : events).push(event);
      notify();
    },
    onComment: (comment) => {
      comments.push(comment.trim());
      notify();
    },
  });

  const reader: SseReader = {
    events,
    connectionEvents,
    comments,
    ended,
    async waitForEvents(count, filter = () => true, timeoutMs = 5_000) {
      await waitUntil(() => events.filter(filter).length >= count, () => `${count} events, got ${JSON.stringify(events.filter(filter).map((e) => e.event))}`, timeoutMs, wake);
      return events.filter(filter);
    },
    waitForComment(text, timeoutMs = 5_000) {
      return waitUntil(() => comments.includes(text), () => `comment "${text}", got ${JSON.stringify(comments)}`, timeoutMs, wake);
    },
    async waitForConnectionEvent(name, timeoutMs = 5_000) {
      const find = () => connectionEvents.find((e) => e.event === name);
      await waitUntil(() => Boolean(find()), () => `a ${name} event, got ${JSON.stringify(connectionEvents.map((e) => e.event))}`, timeoutMs, wake);
      return find()!;
    },
    abort() {
      controller.abort();
      cancel();
    },
  };
  return { response, reader };
}

/** One stream a resuming viewer opened: its HTTP status (0 if the request threw) and how many events it brought. */
export interface WatchSession {
  status: number;
  events: number;
}

/**
 * A viewer that resumes as EventSource does: from the last event id it received, whenever its
 * stream ends or cannot open, until run_complete. `from` is where it starts (none: the whole run).
 */
export async function watchToTheEnd(runId: string, options: { timeoutMs: number; from?: string }): Promise<{ events: EventSourceMessage[]; sessions: WatchSession[] }> {
  const events: EventSourceMessage[] = [];
  const sessions: WatchSession[] = [];
  let lastEventId = options.from;
  const deadline = Date.now() + options.timeoutMs;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  while (Date.now() < deadline) {
    const { response, reader } = await openStream(runId, "redis", lastEventId).catch(() => ({ response: null, reader: null }));
    if (reader) await Promise.race([reader.ended, sleep(deadline - Date.now())]);
    sessions.push({ status: response?.status ?? 0, events: reader?.events.length ?? 0 });
    if (reader) {
      events.push(...reader.events);
      lastEventId = reader.events.findLast((e) => e.id)?.id ?? lastEventId;
      if (reader.events.at(-1)?.event === "run_complete") return { events, sessions };
      reader.abort();
    }
    await sleep(200);
  }
  throw new Error(`no run_complete within ${options.timeoutMs} ms (${events.length} events, sessions ${JSON.stringify(sessions)})`);
}

/** Feeds an SSE response's body to a spec-complete parser; `ended` resolves when it ends or is cancelled. */
export function readSseBody(response: Response, callbacks: ParserCallbacks): { ended: Promise<void>; cancel(): void } {
  const parser = createParser(callbacks);
  const body = response.body!.getReader();
  const decoder = new TextDecoder();
  const ended = (async () => {
    try {
      for (;;) {
        const { done, value } = await body.read();
        if (done) return;
        parser.feed(decoder.decode(value, { stream: true }));
      }
    } catch {
      // aborted by the test
    }
  })();
  return { ended, cancel: () => void body.cancel().catch(() => undefined) };
}

export async function eventually<T>(read: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!accept(value)) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms; last value ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 50));
    value = await read();
  }
  return value;
}
