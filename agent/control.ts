/**
 * The agent side of control: pause, resume and stop for one variation.
 *
 * Control messages reach an agent through a ControlFeed (Redis pub/sub plus the run's control
 * stream, or the HTTP control stream); a feed may deliver a message twice (after a reconnect it
 * replays), so messages are applied once each, by control_id, and strictly one after another.
 * What an action does is the agent's business (an Actuator: a flag for the demo agent, signals
 * for a command agent); acknowledging is common to all: once the action took effect the agent
 * publishes a status (`paused`, `resumed`, `stopped`) carrying the message's control_id, which
 * is what the run page waits for.
 */
import { ACK_STATUS, controlTargets, type ControlMessage } from "../lib/events";
import type { AgentPublisher } from "./publisher";

export interface Actuator {
  /** Take effect before resolving: no output may follow a `paused` acknowledgement. */
  pause(): Promise<void> | void;
  resume(): Promise<void> | void;
  /** Resolve once the agent has stopped and printed its last; `stopped` is then its final status. */
  stop(): Promise<void> | void;
}

export interface ControlFeed {
  /** Start delivering this variation's control messages (and the run-wide ones), oldest first. */
  start(onMessage: (message: ControlMessage) => void): void;
  close(): Promise<void>;
}

type Phase = "running" | "paused" | "stopping" | "stopped";

export class AgentControl {
  private phase: Phase = "running";
  private readonly seen = new Set<string>();
  private chain: Promise<void> = Promise.resolve();
  private readonly waiters = new Set<() => void>();
  private actuator: Actuator | null = null;
  /** Set once the agent's work is over: later messages change nothing and get no answer. */
  private closed = false;
  /** Messages that arrived before an actuator was attached; applied once it is. */
  private early: ControlMessage[] = [];

  constructor(
    private readonly publisher: AgentPublisher,
    private readonly variationId: string,
    private readonly log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
  ) {}

  get paused(): boolean {
    return this.phase === "paused";
  }

  /** True once a stop was asked for: the agent must not report completion or failure itself. */
  get stopRequested(): boolean {
    return this.phase === "stopping" || this.phase === "stopped";
  }

  attach(actuator: Actuator): void {
    this.actuator = actuator;
    for (const message of this.early.splice(0)) this.enqueue(message);
  }

  /** Feed callback. Ignores other variations' messages and ones already applied. */
  handle = (message: ControlMessage): void => {
    if (!controlTargets(message, this.variationId) || this.seen.has(message.control_id)) return;
    this.seen.add(message.control_id);
    if (!this.actuator) this.early.push(message);
    else this.enqueue(message);
  };

  /** Resolves at once unless paused; otherwise when resumed or stopped. */
  whilePaused(): Promise<void> {
    if (this.phase !== "paused") return Promise.resolve();
    return new Promise((resolve) => this.waiters.add(resolve));
  }

  /** Resolves when every control message received so far has been applied and acknowledged. */
  settled(): Promise<void> {
    return this.chain;
  }

  /**
   * The work is over and the final status is about to be published: apply nothing more. A pause
   * read after that would otherwise follow `completed` and undo it (the page would wait forever).
   * Resolves once a message already being applied has been acknowledged.
   */
  async close(): Promise<void> {
    this.closed = true;
    await this.chain;
  }

  private enqueue(message: ControlMessage): void {
    this.chain = this.chain.then(() => this.apply(message)).catch((error: Error) => {
      this.log(`runwatch agent: control ${message.control_id} (${message.action}) failed: ${error.message}`);
    });
  }

  private wake(): void {
    for (const resolve of this.waiters) resolve();
    this.waiters.clear();
  }

  private async apply(message: ControlMessage): Promise<void> {
    const actuator = this.actuator!;
    if (this.closed || this.phase === "stopped" || this.phase === "stopping") return; // nothing left to pause or stop
    this.log(`runwatch agent: ${message.action} (control ${message.control_id})`);
    switch (message.action) {
      case "pause":
        if (this.phase === "running") {
          await actuator.pause();
          this.phase = "paused";
        }
        break;
      case "resume":
        if (this.phase === "paused") {
          await actuator.resume();
          this.phase = "running";
          this.wake();
        }
        break;
      case "stop":
        this.phase = "stopping";
        this.wake();
        await actuator.stop();
        this.phase = "stopped";
        break;
    }
    // Acknowledged even when it changed nothing (pause while paused): the page is waiting.
    void this.publisher.status(ACK_STATUS[message.action], { control_id: message.control_id });
  }
}
