import "server-only";
import { getRedis } from "./redis";

const PING_TIMEOUT_MS = 2_000;

export interface Health {
  ok: boolean;
  redis: "up" | "down";
  reason?: string;
}

/** 200 needs a PONG within 2 s; anything else is reported with the reason. */
export async function checkHealth(): Promise<Health> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${PING_TIMEOUT_MS} ms`)), PING_TIMEOUT_MS);
    });
    await Promise.race([getRedis().ping(), timeout]);
    return { ok: true, redis: "up" };
  } catch (error) {
    return { ok: false, redis: "down", reason: `Redis is unreachable: ${(error as Error).message}` };
  } finally {
    clearTimeout(timer);
  }
}
