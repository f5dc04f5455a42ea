/**
 * One shared pattern subscriber per server process.
 *
 * Every viewer of run X registers a handler for `run:X:*`; the first handler PSUBSCRIBEs, the
 * last one to leave PUNSUBSCRIBEs. 100 tabs on one run cost one pattern subscription and no
 * extra connection (the approach of vercel/resumable-stream's ioredis adapter).
 */
import "server-only";
import { Cluster } from "ioredis";
import { componentLogger } from "./log";
import { getSubscriberConnection, type RedisClient } from "./redis";
import { onClusterSubscriptionMoved } from "./redis-connect";
import { withTimeout } from "./timeout";

export type MessageHandler = (channel: string, message: string) => void;
export type Unsubscribe = () => Promise<void>;

export interface SubscribeOptions {
  /**
   * The subscription had a gap: the connection dropped and messages published meanwhile were
   * not delivered (or re-subscribing failed). Viewers should start over (reconnect).
   */
  onGap?: () => void;
}

interface Subscriber {
  handler: MessageHandler;
  onGap?: () => void;
}

interface PatternEntry {
  subscribers: Set<Subscriber>;
  /** Resolves once Redis confirmed the PSUBSCRIBE; subscribers added earlier wait on it. */
  ready: Promise<unknown>;
  confirmed: boolean;
}

/** A PING on a stalled socket must not hold a request forever. */
const DRAIN_TIMEOUT_MS = 2_000;

export class PatternSubscriber {
  private readonly entries = new Map<string, PatternEntry>();
  private lostConnection = false;

  constructor(private readonly connection: RedisClient) {
    // The connection is made with autoResubscribe off: after a reconnect we subscribe what
    // our map holds. ioredis's own list would also bring back a pattern whose PUNSUBSCRIBE
    // failed while Redis was down, leaving it subscribed with no viewer forever.
    connection.on("close", () => {
      this.lostConnection = true;
    });
    connection.on("ready", () => {
      if (!this.lostConnection) return; // first connect: queued PSUBSCRIBEs are on their way
      this.lostConnection = false;
      void this.resubscribeAfterReconnect();
    });
    // Redis Cluster: ioredis moves the subscriptions to another node by itself when their
    // connection ends, without a "close" here; what was published meanwhile is lost, as on a
    // reconnect. Patterns whose PUNSUBSCRIBE failed come back with it (harmless: no handler).
    if (connection instanceof Cluster && !onClusterSubscriptionMoved(connection, () => void this.resubscribeAfterReconnect())) {
      componentLogger("subscriber").warn("cannot watch the Redis Cluster subscriber (ioredis changed?): viewers will not be told of a lost subscription");
    }
    connection.on("pmessage", (pattern: string, channel: string, message: string) => {
      const entry = this.entries.get(pattern);
      if (!entry) return;
      for (const { handler } of entry.subscribers) {
        try {
          handler(channel, message);
        } catch (error) {
          // One viewer's failure must not stop delivery to the others.
          componentLogger("subscriber").error({ err: error, pattern, channel }, "subscriber handler failed");
        }
      }
    });
  }

  private async resubscribeAfterReconnect(): Promise<void> {
    const confirmed = [...this.entries].filter(([, entry]) => entry.confirmed);
    if (confirmed.length > 0) {
      await this.connection.psubscribe(...confirmed.map(([pattern]) => pattern)).catch((error: Error) => {
        componentLogger("subscriber").warn({ err: error, patterns: confirmed.length }, "re-subscribing after a Redis reconnect failed");
      });
    }
    // Messages published while we were away are gone: every viewer of those runs must know.
    for (const [, entry] of confirmed) {
      for (const { onGap } of entry.subscribers) onGap?.();
    }
  }

  async subscribe(pattern: string, handler: MessageHandler, options: SubscribeOptions = {}): Promise<Unsubscribe> {
    let entry = this.entries.get(pattern);
    if (!entry) {
      const created: PatternEntry = { subscribers: new Set(), ready: this.connection.psubscribe(pattern), confirmed: false };
      created.ready.then(
        () => {
          created.confirmed = true;
        },
        () => {
          if (this.entries.get(pattern) === created) this.entries.delete(pattern);
        },
      );
      this.entries.set(pattern, created);
      entry = created;
    }
    const current = entry;
    const subscriber: Subscriber = { handler, onGap: options.onGap };
    current.subscribers.add(subscriber);
    try {
      await current.ready;
    } catch (error) {
      current.subscribers.delete(subscriber);
      throw error;
    }
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      current.subscribers.delete(subscriber);
      if (current.subscribers.size > 0 || this.entries.get(pattern) !== current) return;
      this.entries.delete(pattern);
      // Commands on one connection run in order, so a PSUBSCRIBE sent after this still wins.
      await this.connection.punsubscribe(pattern).catch((error: Error) => {
        componentLogger("subscriber").warn({ err: error, pattern }, "punsubscribe failed");
      });
    };
  }

  /**
   * Resolves once every message Redis sent before now has been dispatched: a PING on the
   * subscriber connection is answered after the messages queued ahead of it. (On a Cluster the
   * PING goes to some node, not the subscription's connection, so there it only says the
   * Cluster answers.)
   */
  async drain(): Promise<void> {
    await withTimeout(this.connection.ping(), DRAIN_TIMEOUT_MS, `subscriber did not answer PING within ${DRAIN_TIMEOUT_MS} ms`);
  }

  /** Patterns with at least one handler; for tests and metrics. */
  activePatterns(): string[] {
    return [...this.entries.keys()];
  }
}

const globalForSubscriber = globalThis as unknown as { runwatchSubscriber?: PatternSubscriber };

export function getSubscriber(): PatternSubscriber {
  globalForSubscriber.runwatchSubscriber ??= new PatternSubscriber(getSubscriberConnection());
  return globalForSubscriber.runwatchSubscriber;
}

/** Drop the cached subscriber (tests close connections between suites). */
export function resetSubscriber(): void {
  globalForSubscriber.runwatchSubscriber = undefined;
}
