import { describe, expect, it } from "vitest";
import { JITTER, RETRY_POLICIES, retryDelay } from "./backoff";

const noJitter = () => 0;
const fullJitter = () => 0.999999;

describe("retryDelay", () => {
  it("doubles from 1 s for redis and caps at 30 s", () => {
    const delays = Array.from({ length: RETRY_POLICIES.redis.attempts }, (_, i) => retryDelay(RETRY_POLICIES.redis, i + 1, noJitter));
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000, 30_000, 30_000]);
  });

  it("doubles from 3 s for kubectl, three attempts", () => {
    expect(RETRY_POLICIES.kubectl.attempts).toBe(3);
    expect([1, 2, 3].map((n) => retryDelay(RETRY_POLICIES.kubectl, n, noJitter))).toEqual([3_000, 6_000, 12_000]);
  });

  it("adds at most the jitter fraction, and never passes the cap", () => {
    expect(retryDelay(RETRY_POLICIES.redis, 1, fullJitter)).toBe(Math.round(1_000 * (1 + JITTER)));
    expect(retryDelay(RETRY_POLICIES.redis, 2, () => 0.5)).toBe(2_000 * (1 + JITTER / 2));
    expect(retryDelay(RETRY_POLICIES.redis, 5, fullJitter)).toBe(Math.round(16_000 * (1 + JITTER)));
    // capped: jitter goes downwards, so delays stay spread and never pass 30 s
    expect(retryDelay(RETRY_POLICIES.redis, 6, fullJitter)).toBe(Math.round(30_000 * (1 - JITTER * 0.999999)));
    expect(retryDelay(RETRY_POLICIES.redis, 40, () => 0.5)).toBe(30_000 * (1 - JITTER / 2));
    const capped = new Set(Array.from({ length: 50 }, () => retryDelay(RETRY_POLICIES.redis, 9)));
    expect(capped.size).toBeGreaterThan(1);
    for (const delay of capped) expect(delay).toBeLessThanOrEqual(30_000);
  });

  it("spreads clients out: random jitter gives different delays", () => {
    const delays = new Set(Array.from({ length: 50 }, () => retryDelay(RETRY_POLICIES.redis, 3)));
    expect(delays.size).toBeGreaterThan(1);
    for (const delay of delays) {
      expect(delay).toBeGreaterThanOrEqual(4_000);
      expect(delay).toBeLessThanOrEqual(4_800);
    }
  });

  it("refuses attempt numbers below 1", () => {
    expect(() => retryDelay(RETRY_POLICIES.redis, 0)).toThrow(RangeError);
  });
});
