/**
 * One shared pattern subscriber per server process.
 *
 * Every viewer of run X registers a handler for `run:X:*`; the first handler PSUBSCRIBEs, the
 * last one to leave PUNSUBSCRIBEs. 100 tabs on one run cost one pattern subscription and no
 * extra connection (the approach of vercel/resumable-stream's ioredis adapter).
 */
import "server-only";
import type Redis from "ioredis";
import { getSubscriberConnection } from "./redis";

export type MessageHandler = (channel: string, message: string) => void;
export type Unsubscribe = () => Promise<void>;

interface PatternEntry {
  handlers: Set<MessageHandler>;
  /** Resolves once Redis confirmed the PSUBSCRIBE; handlers added earlier wait on it. */
  ready: Promise<unknown>;
}

export class PatternSubscriber {
  private readonly entries = new Map<string, PatternEntry>();

  constructor(private readonly connection: Redis) {
    // The connection is made with autoResubscribe off: after a reconnect we subscribe what
    // our map holds. ioredis's own list would also bring back a pattern whose PUNSUBSCRIBE
    // failed while Redis was down, leaving it subscribed with no viewer forever.
    connection.on("ready", () => {
      const patterns = [...this.entries.keys()];
      if (patterns.length === 0) return;
      connection.psubscribe(...patterns).catch((error: Error) => {
        console.warn(`[runwatch] re-subscribing ${patterns.length} run(s) after reconnect failed: ${error.message}`);
      });
    });
    connection.on("pmessage", (pattern: string, channel: string, message: string) => {
      const entry = this.entries.get(pattern);
      if (!entry) return;
      for (const handler of entry.handlers) {
        try {
          handler(channel, message);
        } catch (error) {
          // One viewer's failure must not stop delivery to the others.
          console.error("[runwatch] subscriber handler failed", error);
        }
      }
    });
  }

  async subscribe(pattern: string, handler: MessageHandler): Promise<Unsubscribe> {
    let entry = this.entries.get(pattern);
    if (!entry) {
      const created: PatternEntry = { handlers: new Set(), ready: this.connection.psubscribe(pattern) };
      created.ready.catch(() => {
        if (this.entries.get(pattern) === created) this.entries.delete(pattern);
      });
      this.entries.set(pattern, created);
      entry = created;
    }
    const current = entry;
    current.handlers.add(handler);
    try {
      await current.ready;
    } catch (error) {
      current.handlers.delete(handler);
      throw error;
    }
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      current.handlers.delete(handler);
      if (current.handlers.size > 0 || this.entries.get(pattern) !== current) return;
      this.entries.delete(pattern);
      // Commands on one connection run in order, so a PSUBSCRIBE sent after this still wins.
      await this.connection.punsubscribe(pattern).catch((error: Error) => {
        console.warn(`[runwatch] punsubscribe ${pattern} failed: ${error.message}`);
      });
    };
  }

  /**
   * Resolves once every message Redis sent before now has been dispatched: a PING on the
   * subscriber connection is answered after the messages queued ahead of it.
   */
  async drain(): Promise<void> {
    await this.connection.ping();
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
