import "server-only";
import { getRedis } from "./redis";
import { withTimeout } from "./timeout";

const PING_TIMEOUT_MS = 2_000;

export interface Health {
  ok: boolean;
  redis: "up" | "down";
  reason?: string;
}

/** 200 needs a PONG within 2 s; anything else is reported with the reason. */
export async function checkHealth(): Promise<Health> {
  try {
    await withTimeout(getRedis().ping(), PING_TIMEOUT_MS, `no answer within ${PING_TIMEOUT_MS} ms`);
    return { ok: true, redis: "up" };
  } catch (error) {
    return { ok: false, redis: "down", reason: `Redis is unreachable: ${(error as Error).message}` };
  }
}
