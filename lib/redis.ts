/**
 * Redis connections for the server process.
 *
 * - one command client, cached on globalThis so `next dev` hot reloads do not leak connections;
 * - one subscriber connection (see lib/subscriber.ts): a connection in subscribe mode cannot
 *   run commands, so it is kept apart from the command client.
 * Browser tabs never get a connection of their own.
 */
import "server-only";
import Redis, { type RedisOptions } from "ioredis";
import { serverEnv } from "./env";

const globalForRedis = globalThis as unknown as {
  runwatchRedis?: Redis;
  runwatchSubscriberConnection?: Redis;
};

/** Fail a request fast when Redis is down instead of queueing it for minutes. */
export const REDIS_OPTIONS: RedisOptions = {
  maxRetriesPerRequest: 1,
  connectTimeout: 5_000,
  commandTimeout: 5_000,
  retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
};

function logErrors(client: Redis, role: string): Redis {
  // Without a listener ioredis prints "Unhandled error event" for every failed reconnect.
  let lastLogged = 0;
  client.on("error", (error: Error) => {
    const now = Date.now();
    if (now - lastLogged < 10_000) return;
    lastLogged = now;
    console.warn(`[runwatch] redis ${role} connection: ${error.message}`);
  });
  return client;
}

export function getRedis(): Redis {
  globalForRedis.runwatchRedis ??= logErrors(
    new Redis(serverEnv().REDIS_URL, { ...REDIS_OPTIONS, connectionName: "runwatch:app" }),
    "command",
  );
  return globalForRedis.runwatchRedis;
}

export function getSubscriberConnection(): Redis {
  globalForRedis.runwatchSubscriberConnection ??= logErrors(
    new Redis(serverEnv().REDIS_URL, {
      ...REDIS_OPTIONS,
      // Subscriptions are long-lived; a per-command timeout would break PSUBSCRIBE replies under load.
      commandTimeout: undefined,
      // lib/subscriber.ts re-subscribes from its own map of live viewers (see there).
      autoResubscribe: false,
      connectionName: "runwatch:subscriber",
    }),
    "subscriber",
  );
  return globalForRedis.runwatchSubscriberConnection;
}

/** For tests and graceful shutdown. */
export async function closeRedis(): Promise<void> {
  const clients = [globalForRedis.runwatchRedis, globalForRedis.runwatchSubscriberConnection];
  globalForRedis.runwatchRedis = undefined;
  globalForRedis.runwatchSubscriberConnection = undefined;
  await Promise.all(clients.map((c) => c?.quit().catch(() => c.disconnect())));
}
