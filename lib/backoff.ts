/**
 * How the browser retries a lost stream. Exponential, capped, with a little jitter so that
 * viewers cut off together (a server restart) do not all come back in the same millisecond.
 */
import type { StreamingBackend } from "./public-env";

export interface RetryPolicy {
  /** Delay before the first retry. */
  baseMs: number;
  /** Retries before giving up and asking the user. */
  attempts: number;
  /** No single delay is longer than this. */
  capMs: number;
}

/** kubectl streams are costly to start (a process and an API call per variation): fewer, slower retries. */
export const RETRY_POLICIES: Readonly<Record<StreamingBackend, RetryPolicy>> = {
  redis: { baseMs: 1_000, attempts: 10, capMs: 30_000 },
  kubectl: { baseMs: 3_000, attempts: 3, capMs: 30_000 },
};

/** Up to this fraction is added to each delay. */
export const JITTER = 0.2;

/**
 * Delay before retry number `attempt` (1-based): base·2^(attempt−1) plus up to JITTER of it.
 * At the cap the jitter goes downwards instead, so capped retries stay spread out too.
 */
export function retryDelay(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  if (!Number.isInteger(attempt) || attempt < 1) throw new RangeError(`attempt must be an integer ≥ 1, got ${attempt}`);
  const r = random();
  const jittered = policy.baseMs * 2 ** (attempt - 1) * (1 + JITTER * r);
  return Math.round(jittered <= policy.capMs ? jittered : policy.capMs * (1 - JITTER * r));
}
