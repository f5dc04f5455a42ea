/**
 * Helpers for integration tests: a real Redis client, run creation, and an SSE reader that
 * parses route responses with a spec-complete parser (what a browser would see).
 */
import { createParser, type EventSourceMessage } from "eventsource-parser";
import Redis from "ioredis";
import { afterAll, beforeAll } from "vitest";
import { GET as streamRoute } from "@/app/api/v1/runs/[runId]/stream/redis/route";
import { AgentPublisher } from "@/agent/publisher";
import { closeRedis } from "@/lib/redis";
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
  return createRun({ prompt: "integration test", variations, agent: "demo" });
}

/** A publisher per variation, writing its JSON lines nowhere. */
export function publishers(redis: Redis, run: NewRun): AgentPublisher[] {
  return run.variationIds.map((variationId) => new AgentPublisher({ redis, runId: run.runId, variationId, writeLine: () => {} }));
}

export interface SseReader {
  events: EventSourceMessage[];
  comments: string[];
  /** Resolves once `count` events (matching `filter`) have arrived in total. */
  waitForEvents(count: number, filter?: (e: EventSourceMessage) => boolean, timeoutMs?: number): Promise<EventSourceMessage[]>;
  waitForComment(text: string, timeoutMs?: number): Promise<void>;
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

export async function openStream(runId: string): Promise<{ response: Response; reader: SseReader | null }> {
  const controller = new AbortController();
  const request = new Request(`http://localhost/api/v1/runs/${encodeURIComponent(runId)}/stream/redis`, { signal: controller.signal });
  const response = await streamRoute(request, { params: Promise.resolve({ runId }) });
  if (!response.ok || !response.body) return { response, reader: null };

  const events: EventSourceMessage[] = [];
  const comments: string[] = [];
  const wake = new Set<() => void>();
  const notify = () => [...wake].forEach((fn) => fn());
  const parser = createParser({
    onEvent: (event) => {
      events.push(event);
      notify();
    },
    onComment: (comment) => {
      comments.push(comment.trim());
      notify();
    },
  });
  const body = response.body.getReader();
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

  const reader: SseReader = {
    events,
    comments,
    ended,
    async waitForEvents(count, filter = () => true, timeoutMs = 5_000) {
      await waitUntil(() => events.filter(filter).length >= count, () => `${count} events, got ${JSON.stringify(events.filter(filter).map((e) => e.event))}`, timeoutMs, wake);
      return events.filter(filter);
    },
    waitForComment(text, timeoutMs = 5_000) {
      return waitUntil(() => comments.includes(text), () => `comment "${text}", got ${JSON.stringify(comments)}`, timeoutMs, wake);
    },
    abort() {
      controller.abort();
      void body.cancel().catch(() => undefined);
    },
  };
  return { response, reader };
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
