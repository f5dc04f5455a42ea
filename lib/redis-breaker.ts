/**
 * A circuit breaker for the server's Redis command client.
 *
 * Without it, every request made while Redis is away tries Redis itself: with Redis stopped it
 * waits for a reconnect attempt, and with Redis paused (a network stall: the socket is open but
 * nothing answers) it waits the whole command timeout, 5 s, while its command sits in a
 * growing queue. With it, once Redis is known to be away requests are refused at once (503
 * redis_unavailable with Retry-After), and one PING at a time finds out when it is back:
 *   closed     commands go through; `failureThreshold` connection failures in a row (refused,
 *              reset, timed out), or the connection staying down past a short grace
 *              (lib/redis.ts), open it;
 *   open       commands fail at once; after the open period (exponential with jitter, capped)
 *              the next request or health check sends a probe;
 *   half_open  the probe PING is in flight: success closes, failure opens again for longer.
 *
 * Pure logic with an injectable clock (unit-tested with a fake one); lib/redis.ts wires it to
 * the ioredis client.
 */
import { retryDelay } from "./backoff";

export const BREAKER_STATES = ["closed", "open", "half_open"] as const;
export type BreakerState = (typeof BREAKER_STATES)[number];

export interface BreakerOptions {
  /** Connection failures in a row that open the breaker. */
  failureThreshold: number;
  /** First open period; it doubles (plus jitter) each time a probe fails, up to `maxOpenMs`. */
  openMs: number;
  maxOpenMs: number;
  now?: () => number;
  random?: () => number;
  onChange?: (state: BreakerState, reason: string) => void;
}

export class CircuitBreaker {
  private current: BreakerState = "closed";
  private failures = 0;
  /** Failed probes since the breaker last closed: the open period grows with them. */
  private reopenings = 0;
  private openUntil = 0;
  private lastReason = "";
  private readonly now: () => number;

  constructor(private readonly options: BreakerOptions) {
    this.now = options.now ?? Date.now;
  }

  get state(): BreakerState {
    return this.current;
  }

  /** Why the breaker last opened. */
  get reason(): string {
    return this.lastReason;
  }

  /** May a command go to Redis now? Only while closed: a probe goes through `startProbe`. */
  allows(): boolean {
    return this.current === "closed";
  }

  /** Open and its period is over: time for a probe (the caller sends it, then reports). */
  probeDue(): boolean {
    return this.current === "open" && this.now() >= this.openUntil;
  }

  /** Claim the probe: true for one caller only, until it reports success or failure. */
  startProbe(): boolean {
    if (!this.probeDue()) return false;
    this.transition("half_open", "probing with PING");
    return true;
  }

  /** Seconds until a probe may be sent; at least 1 (the Retry-After header). */
  retryAfterSeconds(): number {
    return Math.max(1, Math.ceil((this.openUntil - this.now()) / 1000));
  }

  /** Redis answered (even with an error of its own, like WRONGTYPE): it is there. */
  success(): void {
    this.failures = 0;
    if (this.current === "closed") return;
    this.reopenings = 0;
    this.transition("closed", "Redis answered");
  }

  /** A command could not reach Redis (refused, reset, closed, timed out). */
  failure(reason: string): void {
    this.failures += 1;
    if (this.current === "half_open") {
      this.reopenings += 1;
      return this.open(reason);
    }
    if (this.current === "closed" && this.failures >= this.options.failureThreshold) this.open(reason);
  }

  /** The connection dropped: no need to wait for commands to fail one by one. */
  trip(reason: string): void {
    if (this.current === "closed") this.open(reason);
  }

  private open(reason: string): void {
    const delay = retryDelay({ baseMs: this.options.openMs, capMs: this.options.maxOpenMs, attempts: Infinity }, this.reopenings + 1, this.options.random);
    this.openUntil = this.now() + delay;
    this.lastReason = reason;
    this.transition("open", reason);
  }

  private transition(state: BreakerState, reason: string): void {
    if (state === this.current) return;
    this.current = state;
    this.options.onChange?.(state, reason);
  }
}
