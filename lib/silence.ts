/**
 * Notices a stream that went quiet. A half-open TCP connection (a laptop that slept, a proxy
 * that dropped the flow) raises no error in the browser: the page would wait forever. The
 * server sends a heartbeat every `heartbeat_ms`; hearing nothing for 2.5 of those means dead.
 */
export const SILENCE_FACTOR = 2.5;

export function silenceTimeout(heartbeatMs: number): number {
  return Math.round(heartbeatMs * SILENCE_FACTOR);
}

export class SilenceDetector {
  private lastHeard = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private timeoutMs: number,
    private readonly onSilent: (silentForMs: number) => void,
  ) {}

  /** Something arrived (an event, a heartbeat, the connection opening). Starts watching if stopped. */
  heard(): void {
    this.lastHeard = Date.now();
    // One timer re-armed lazily, not one per event: 1,000 events/s must not mean 1,000 timers/s.
    this.timer ??= setTimeout(this.check, this.timeoutMs);
  }

  /** The server announced its heartbeat interval. */
  setTimeoutMs(timeoutMs: number): void {
    this.timeoutMs = timeoutMs;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.check();
    }
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private readonly check = (): void => {
    this.timer = undefined;
    const silentFor = Date.now() - this.lastHeard;
    if (silentFor >= this.timeoutMs) return this.onSilent(silentFor);
    this.timer = setTimeout(this.check, this.timeoutMs - silentFor);
  };
}
