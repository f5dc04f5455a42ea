/**
 * The agent's outbox: messages wait here, in order, until Redis has them. An agent must not
 * lose its work because Redis blinked (a restart, a failover), nor stop working while it is
 * away, nor eat all its memory if it never comes back:
 *   - publishing retries with exponential backoff (100 ms doubling to 5 s) while Redis is away;
 *   - the outbox is bounded (10,000 messages by default); when full, the oldest message that is
 *     not a status is dropped, and the agent says so on stderr (statuses are never dropped:
 *     they decide how the run ends). Viewers see the hole as a gap in the sequence.
 * The publish script ignores a sequence it already has, so a retry after a lost reply is safe.
 */
import type Redis from "ioredis";
import type { AgentMessage } from "../lib/events";
import { publishMessage, UnknownRunError } from "../lib/publish";

export interface PublishQueueOptions {
  redis: Redis;
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
    const index = this.pending.findIndex((p, i) => i > 0 && p.message.type !== "status");
    if (index < 0) return; // only statuses: keep them all
    const [victim] = this.pending.splice(index, 1);
    victim!.settle();
    this.dropped += 1;
    if (this.dropped === 1 || this.dropped % 1_000 === 0) {
      this.log(`runwatch agent: outbox full (${this.options.maxMessages ?? 10_000} messages) while Redis is unreachable: dropped ${this.dropped} message(s) so far, latest sequence ${victim!.message.sequence} (${victim!.message.type})`);
    }
  }

  private async pump(): Promise<void> {
    let delay = this.options.baseDelayMs ?? 100;
    while (this.pending.length > 0) {
      const head = this.pending[0]!;
      try {
        await publishMessage(this.options.redis, head.message);
      } catch (error) {
        if (error instanceof UnknownRunError) {
          this.fatal = error.message;
          this.log(`runwatch agent: ${error.message}; dropping ${this.pending.length} queued message(s)`);
          for (const p of this.pending.splice(0)) p.settle();
          return;
        }
        if (this.fatal) return;
        if (!this.failing) this.log(`runwatch agent: cannot publish to Redis (${(error as Error).message}); keeping messages and retrying`);
        this.failing = true;
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(delay * 2, this.options.maxDelayMs ?? 5_000);
        continue;
      }
      if (this.pending[0] === head) this.pending.shift();
      head.settle();
      if (this.failing) {
        this.failing = false;
        this.log(`runwatch agent: Redis is back; publishing the ${this.pending.length + 1} buffered message(s)${this.dropped ? ` (${this.dropped} were dropped while the outbox was full)` : ""}`);
      }
      delay = this.options.baseDelayMs ?? 100;
    }
  }
}
