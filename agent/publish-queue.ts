/**
 * The agent's outbox: messages wait here, in order, until Redis has them. An agent must not
 * lose its work because Redis blinked (a restart, a failover), nor stop working while it is
 * away, nor eat all its memory if it never comes back:
 *   - publishing retries with exponential backoff (100 ms doubling to 5 s) while Redis is away;
 *   - the outbox is bounded (10,000 messages by default); when full, the oldest message that is
 *     not a status is dropped, and the agent says so on stderr (statuses are never dropped:
 *     they decide how the run ends). Viewers see the hole as a gap in the sequence.
 * The publish script ignores a sequence it already has, so a retry after a lost reply is safe.
 * Messages go out in batches (one request for an agent over HTTP); a batch is retried whole.
 */
import type { AgentMessage } from "../lib/events";
import { FatalPublishError, publishMessage } from "../lib/publish";
import type { RedisClient } from "../lib/redis-connect";

/** Publish these messages in order; throw FatalPublishError when retrying cannot help. */
export type SendBatch = (messages: AgentMessage[]) => Promise<void>;

/**
 * Straight through the publish script, one message after another: for trusted in-process
 * publishers (tests, the server). The agent runner on Redis appends to its run's inbox instead
 * (agent/transport.ts, lib/inbox.ts).
 */
export function sendToRedis(redis: RedisClient): SendBatch {
  return async (messages) => {
    for (const message of messages) await publishMessage(redis, message);
  };
}

export interface PublishQueueOptions {
  send: SendBatch;
  /** Messages per send: one request for HTTP, one pipelined round trip for a Redis inbox. */
  batchSize?: number;
  /** A batch stops growing past this many bytes of JSON (a request body has a limit). */
  maxBatchBytes?: number;
  maxMessages?: number;
  /** Where the outbox reports trouble; stderr by default. */
  log?: (line: string) => void;
  baseDelayMs?: number;
  maxDelayMs?: number;
}

interface Pending {
  message: AgentMessage;
  /** Resolved once published, or once given up on (dropped, unknown run). */
  settle: () => void;
}

export class PublishQueue {
  private readonly pending: Pending[] = [];
  private pumping: Promise<void> | null = null;
  private failing = false;
  private dropped = 0;
  private fatal: string | null = null;
  /** The first `inFlight` pending messages are being sent: dropping one of them would reorder. */
  private inFlight = 0;
  private readonly log: (line: string) => void;

  constructor(private readonly options: PublishQueueOptions) {
    this.log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
  }

  get size(): number {
    return this.pending.length;
  }

  /** Why publishing stopped for good (the run does not exist or has expired); null while it works. */
  get fatalError(): string | null {
    return this.fatal === "closed" ? null : this.fatal;
  }

  /** Queue a message; the promise settles when Redis has it (or it was given up on). Never rejects. */
  push(message: AgentMessage): Promise<void> {
    if (this.fatal) return Promise.resolve();
    const done = new Promise<void>((settle) => this.pending.push({ message, settle }));
    if (this.pending.length > (this.options.maxMessages ?? 10_000)) this.dropOne();
    this.pumping ??= this.pump().finally(() => {
      this.pumping = null;
    });
    return done;
  }

  /** Wait until everything queued is published, at most `timeoutMs`; answers how many were not. */
  async flush(timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (this.pending.length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    return this.pending.length;
  }

  /** Give up on whatever is still queued (the agent is exiting); no more retries. */
  close(): void {
    this.fatal ??= "closed";
    for (const p of this.pending.splice(0)) p.settle();
  }

  private dropOne(): void {
    const index = this.pending.findIndex((p, i) => i >= Math.max(1, this.inFlight) && p.message.type !== "status");
    if (index < 0) return; // only statuses: keep them all
    const [victim] = this.pending.splice(index, 1);
    victim!.settle();
    this.dropped += 1;
    if (this.dropped === 1 || this.dropped % 1_000 === 0) {
      this.log(`runwatch agent: outbox full (${this.options.maxMessages ?? 10_000} messages) while Redis is unreachable: dropped ${this.dropped} message(s) so far, latest sequence ${victim!.message.sequence} (${victim!.message.type})`);
    }
  }

  /** The head of the queue, up to batchSize messages and maxBatchBytes (always at least one). */
  private nextBatch(): Pending[] {
    const { batchSize = 1, maxBatchBytes } = this.options;
    if (batchSize === 1 || maxBatchBytes === undefined) return this.pending.slice(0, batchSize);
    const batch: Pending[] = [];
    let bytes = 0;
    for (const p of this.pending) {
      const size = Buffer.byteLength(JSON.stringify(p.message));
      if (batch.length >= batchSize || (batch.length > 0 && bytes + size > maxBatchBytes)) break;
      batch.push(p);
      bytes += size;
    }
    return batch;
  }

  private async pump(): Promise<void> {
    let delay = this.options.baseDelayMs ?? 100;
    while (this.pending.length > 0) {
      const batch = this.nextBatch();
      this.inFlight = batch.length;
      try {
        await this.options.send(batch.map((p) => p.message));
      } catch (error) {
        this.inFlight = 0;
        if (error instanceof FatalPublishError) {
          this.fatal = error.message;
          this.log(`runwatch agent: ${error.message}; dropping ${this.pending.length} queued message(s)`);
          for (const p of this.pending.splice(0)) p.settle();
          return;
        }
        if (this.fatal) return;
        if (!this.failing) this.log(`runwatch agent: cannot publish (${(error as Error).message}); keeping messages and retrying`);
        this.failing = true;
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(delay * 2, this.options.maxDelayMs ?? 5_000);
        continue;
      }
      this.inFlight = 0;
      for (const sent of batch) {
        const index = this.pending.indexOf(sent);
        if (index >= 0) this.pending.splice(index, 1);
        sent.settle();
      }
      if (this.failing) {
        this.failing = false;
        this.log(`runwatch agent: publishing works again; sending the ${this.pending.length + batch.length} buffered message(s)${this.dropped ? ` (${this.dropped} were dropped while the outbox was full)` : ""}`);
      }
      delay = this.options.baseDelayMs ?? 100;
    }
  }
}
