import "server-only";
import type { BreakerState } from "./redis-breaker";
import { getRedis, probeRedis, redisBreaker, redisConnectionLost } from "./redis";
import { withTimeout } from "./timeout";

const PING_TIMEOUT_MS = 2_000;

export interface Health {
  ok: boolean;
  redis: "up" | "down";
  /** The Redis circuit breaker (lib/redis-breaker.ts): open while Redis is known to be away. */
  circuit: BreakerState;
  reason?: string;
}

/**
 * 200 needs a PONG within 2 s; anything else is reported with the reason. While the connection
 * is down, or the circuit breaker is open, the answer is immediate: no PING piles up on a dead
 * or stalled connection, and a readiness probe (1 s timeout on Kubernetes) hears 503, not a
 * timeout. Once the breaker's period is over, this check may be the one that sends the probe,
 * and waits for it.
 */
export async function checkHealth(): Promise<Health> {
  const breaker = redisBreaker();
  getRedis(); // the breaker watches the client from its creation
  const lost = redisConnectionLost();
  if (lost) return { ok: false, redis: "down", circuit: breaker.state, reason: `Redis is unreachable: ${lost}; circuit breaker ${breaker.state}` };
  if (!breaker.allows()) await probeRedis();
  if (!breaker.allows()) {
    return { ok: false, redis: "down", circuit: breaker.state, reason: `Redis is unreachable: circuit breaker ${breaker.state} (${breaker.reason}); next try in ${breaker.retryAfterSeconds()} s` };
  }
  try {
    await withTimeout(getRedis().ping(), PING_TIMEOUT_MS, `no answer within ${PING_TIMEOUT_MS} ms`);
    return { ok: true, redis: "up", circuit: breaker.state };
  } catch (error) {
    return { ok: false, redis: "down", circuit: breaker.state, reason: `Redis is unreachable: ${(error as Error).message}` };
  }
}
