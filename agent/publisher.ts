/**
 * The agent-side publisher: numbers messages per variation, prints each as one JSON line on
 * stdout (what the kubectl fallback reads) and publishes it to Redis.
 *
 * Runs in the agent process, outside Next, so it creates its own connection.
 */
import {
  agentMessageSchema,
  type AgentMessage,
  type LogLevel,
  type VariationStatus,
} from "../lib/events";
import type { RedisClient } from "../lib/redis-connect";
import { PublishQueue, sendToRedis, type SendBatch } from "./publish-queue";

export interface PublisherOptions {
  /** Where messages go: a Redis client (through the publish script), or any batch sender (HTTP). */
  sink: RedisClient | { send: SendBatch; batchSize: number; maxBatchBytes?: number };
  runId: string;
  variationId: string;
  /** Where the JSON line of each message goes; stdout by default. */
  writeLine?: (line: string) => void;
  /** Messages kept while Redis is unreachable (see PublishQueue). */
  maxBufferedMessages?: number;
  /** Where the outbox reports trouble; stderr by default. */
  log?: (line: string) => void;
}

export interface StatusMetadata {
  error?: string;
  exit_code?: number;
  /** The control message this status acknowledges. */
  control_id?: string;
}

type Body =
  | { type: "output"; content: string }
  | { type: "log"; content: string; metadata: { level: LogLevel } }
  | { type: "status"; content: VariationStatus; metadata: StatusMetadata }
  | { type: "metric"; content: Record<string, number> };

export class AgentPublisher {
  private sequence = 0;
  private readonly writeLine: (line: string) => void;
  private readonly outbox: PublishQueue;

  constructor(private readonly options: PublisherOptions) {
    this.writeLine = options.writeLine ?? ((line) => process.stdout.write(`${line}\n`));
    const { sink } = options;
    const target = "batchSize" in sink ? sink : { send: sendToRedis(sink), batchSize: 1 };
    this.outbox = new PublishQueue({ ...target, maxMessages: options.maxBufferedMessages, log: options.log });
  }

  /** Wait (at most `timeoutMs`) until Redis has every message; answers how many it still lacks. */
  flush(timeoutMs: number): Promise<number> {
    return this.outbox.flush(timeoutMs);
  }

  /** Set once Redis refused this run for good (unknown or expired): nothing more will reach it. */
  get fatalError(): string | null {
    return this.outbox.fatalError;
  }

  /** Messages sent so far; the last sequence number used. */
  get lastSequence(): number {
    return this.sequence;
  }

  output(content: string) {
    return this.send({ type: "output", content });
  }

  log(content: string, level: LogLevel = "info") {
    return this.send({ type: "log", content, metadata: { level } });
  }

  status(status: VariationStatus, metadata: StatusMetadata = {}) {
    return this.send({ type: "status", content: status, metadata });
  }

  metric(content: Record<string, number>) {
    return this.send({ type: "metric", content });
  }

  /**
   * Print the message and queue it for Redis. The promise settles once Redis has it (or it was
   * given up on) and never rejects: while Redis is away an agent may go on working without
   * awaiting it, and `flush()` before exiting.
   */
  private async send(body: Body): Promise<AgentMessage> {
    const message = agentMessageSchema.parse({
      metadata: {},
      ...body,
      timestamp: new Date().toISOString(),
      run_id: this.options.runId,
      variation_id: this.options.variationId,
      sequence: ++this.sequence,
    });
    // stdout first: the log-following backend still sees the message if Redis is down.
    this.writeLine(JSON.stringify(message));
    await this.outbox.push(message);
    return message;
  }
}
