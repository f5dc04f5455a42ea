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
   * The subscription is gone: its connection dropped (or, on a Cluster, moved to another node),
   * and messages published from now until a new subscription is confirmed are lost. Called at
   * once, before anything else reaches the handler, which gets nothing more. Whoever still wants
   * messages subscribes again and reads the history from where it was: a viewer's stream ends,
   * and the browser resumes from its last event id.
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
  /**
   * Redis Cluster: patterns whose entries were dropped but which ioredis may still hold
   * subscribed (it re-subscribes by itself on another node); unsubscribed when it can.
   */
  private readonly orphans = new Set<string>();
  private readonly cluster: boolean;

  constructor(private readonly connection: RedisClient) {
    this.cluster = connection instanceof Cluster;
    // A dropped connection takes every subscription with it, and what is published until a new
    // PSUBSCRIBE is confirmed is lost. Every subscriber is told at once, before anything else
    // can reach it: a message delivered after such a hole would move a viewer's cursor past it,
    // and its resume would then skip what was lost (the fault suite caught exactly that, when
    // subscribers were re-subscribed first and told afterwards). Nothing is re-subscribed here:
    // the connection is made with autoResubscribe off, and whoever still wants messages
    // subscribes again, then reads the history from where it was (lib/stream-follower.ts).
    connection.on("close", () => this.dropConfirmed("the subscriber connection to Redis closed"));
    if (this.cluster) {
      // Redis Cluster: ioredis moves the subscriptions to another node by itself when their
      // connection ends, without a "close" here; what was published meanwhile is lost, as on a
      // reconnect. It takes them along, so they are unsubscribed (see `orphans`).
      if (!onClusterSubscriptionMoved(connection, () => this.dropConfirmed("the Redis Cluster moved the subscriptions to another node"))) {
        componentLogger("subscriber").warn("cannot watch the Redis Cluster subscriber (ioredis changed?): viewers will not be told of a lost subscription");
      }
      connection.on("ready", () => this.unsubscribeOrphans());
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

  /**
   * Forget every confirmed subscription and tell its subscribers they have a gap. Entries still
   * waiting for their PSUBSCRIBE stay: their subscribers are not live yet, and ioredis sends the
   * command again on the new connection (or fails it, which they hear).
   */
  private dropConfirmed(reason: string): void {
    const dropped = [...this.entries].filter(([, entry]) => entry.confirmed);
    if (dropped.length === 0) return;
    for (const [pattern] of dropped) {
      this.entries.delete(pattern);
      if (this.cluster) this.orphans.add(pattern);
    }
    componentLogger("subscriber").warn({ patterns: dropped.length, reason }, "subscriptions lost: their viewers resume from their last event");
    for (const [, entry] of dropped) {
      for (const { onGap } of entry.subscribers) {
        try {
          onGap?.();
        } catch (error) {
          componentLogger("subscriber").error({ err: error }, "a subscriber's gap handler failed");
        }
      }
    }
    if (this.cluster) this.unsubscribeOrphans();
  }

  /** Cluster only: PUNSUBSCRIBE what ioredis brought back without a subscriber here. */
  private unsubscribeOrphans(): void {
    for (const pattern of this.orphans) {
      // Subscribed again meanwhile: that entry's PSUBSCRIBE was sent after, and wins; keep it.
      if (this.entries.has(pattern)) {
        this.orphans.delete(pattern);
        continue;
      }
      this.connection.punsubscribe(pattern).then(
        () => this.orphans.delete(pattern),
        () => {}, // the Cluster is down: tried again once it is ready
      );
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
        // A Cluster brings its subscriptions along to the next node: unsubscribe it there.
        if (this.cluster) this.orphans.add(pattern);
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
