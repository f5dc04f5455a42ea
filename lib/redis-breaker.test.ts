import { describe, expect, it } from "vitest";
import { CircuitBreaker, type BreakerState } from "./redis-breaker";

function breakerWithClock(threshold = 3) {
  let now = 0;
  const changes: BreakerState[] = [];
  const breaker = new CircuitBreaker({ failureThreshold: threshold, openMs: 1_000, maxOpenMs: 8_000, now: () => now, random: () => 0, onChange: (state) => changes.push(state) });
  return { breaker, changes, advance: (ms: number) => (now += ms) };
}

describe("CircuitBreaker", () => {
  it("opens after N connection failures in a row, not after fewer or interrupted ones", () => {
    const { breaker } = breakerWithClock(3);
    breaker.failure("ECONNREFUSED");
    breaker.failure("ECONNREFUSED");
    breaker.success();
    breaker.failure("ECONNREFUSED");
    breaker.failure("ECONNREFUSED");
    expect(breaker.state).toBe("closed");
    expect(breaker.allows()).toBe(true);
    breaker.failure("Command timed out");
    expect(breaker.state).toBe("open");
    expect(breaker.allows()).toBe(false);
    expect(breaker.reason).toBe("Command timed out");
  });

  it("refuses until the open period is over, then lets exactly one probe out", () => {
    const { breaker, advance } = breakerWithClock(1);
    breaker.failure("ECONNREFUSED");
    expect(breaker.retryAfterSeconds()).toBe(1);
    advance(999);
    expect(breaker.probeDue()).toBe(false);
    expect(breaker.startProbe()).toBe(false);
    advance(1);
    expect(breaker.startProbe()).toBe(true);
    expect(breaker.state).toBe("half_open");
    expect(breaker.startProbe()).toBe(false); // one probe at a time
    expect(breaker.allows()).toBe(false); // requests still refused while it is out
    breaker.success();
    expect(breaker.state).toBe("closed");
    expect(breaker.allows()).toBe(true);
  });

  it("waits exponentially longer after each failed probe, up to the cap", () => {
    const { breaker, advance } = breakerWithClock(1);
    breaker.failure("ECONNREFUSED");
    const periods: number[] = [];
    for (let i = 0; i < 6; i++) {
      let waited = 0;
      while (!breaker.probeDue()) {
        advance(100);
        waited += 100;
      }
      periods.push(waited);
      breaker.startProbe();
      breaker.failure("no PONG within 2000 ms");
    }
    expect(periods).toEqual([1_000, 2_000, 4_000, 8_000, 8_000, 8_000]);
    // Closing resets the growth: the next outage starts at the base period again.
    advance(8_000);
    breaker.startProbe();
    breaker.success();
    breaker.failure("ECONNREFUSED");
    expect(breaker.retryAfterSeconds()).toBe(1);
  });

  it("adds jitter to the open period", () => {
    let now = 0;
    const breaker = new CircuitBreaker({ failureThreshold: 1, openMs: 1_000, maxOpenMs: 8_000, now: () => now, random: () => 1 });
    breaker.failure("ECONNRESET");
    now = 1_199;
    expect(breaker.probeDue()).toBe(false);
    now = 1_200;
    expect(breaker.probeDue()).toBe(true);
  });

  it("trips at once when the connection drops, and reports each change once", () => {
    const { breaker, changes, advance } = breakerWithClock(3);
    breaker.trip("the connection to Redis closed");
    breaker.trip("the connection to Redis closed");
    breaker.failure("ECONNREFUSED"); // already open: no new period
    expect(breaker.state).toBe("open");
    advance(1_000);
    breaker.startProbe();
    breaker.success();
    expect(changes).toEqual(["open", "half_open", "closed"]);
  });
});
