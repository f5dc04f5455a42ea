/**
 * Redis connections for the server process.
 *
 * - one command client, cached on globalThis so `next dev` hot reloads do not leak connections;
 * - one subscriber connection (see lib/subscriber.ts): a connection in subscribe mode cannot
 *   run commands, so it is kept apart from the command client.
 * Browser tabs never get a connection of their own. Each is to one server, through Sentinel or
 * to a Cluster, as the environment says (lib/redis-connect.ts).
 */
import "server-only";
import type { RedisOptions } from "ioredis";
import { redisTarget } from "./env";
import { componentLogger } from "./log";
import { metrics, type RedisConnectionRole } from "./metrics";
import { createRedisClient, type RedisClient } from "./redis-connect";

export type { RedisClient } from "./redis-connect";

const globalForRedis = globalThis as unknown as {
  runwatchRedis?: RedisClient;
  runwatchSubscriberConnection?: RedisClient;
};

/** Fail a request fast when Redis is down instead of queueing it for minutes. */
export const REDIS_OPTIONS: RedisOptions = {
  maxRetriesPerRequest: 1,
  connectTimeout: 5_000,
  commandTimeout: 5_000,
  retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
};

function logErrors(client: RedisClient, role: RedisConnectionRole): RedisClient {
  // Without a listener ioredis prints "Unhandled error event" for every failed reconnect.
  let lastLogged = 0;
  client.on("error", (error: Error) => {
    const now = Date.now();
    if (now - lastLogged < 10_000) return;
    lastLogged = now;
    componentLogger("redis").warn({ connection: role, err: error }, "redis connection error");
  });
  // Emitted before each attempt to connect again after the connection dropped.
  client.on("reconnecting", () => metrics().redisReconnects.inc({ connection: role }));
  return client;
}

export function getRedis(): RedisClient {
  globalForRedis.runwatchRedis ??= logErrors(
    createRedisClient(redisTarget(), { ...REDIS_OPTIONS, connectionName: "runwatch:app" }),
    "command",
  );
  return globalForRedis.runwatchRedis;
}

export function getSubscriberConnection(): RedisClient {
  globalForRedis.runwatchSubscriberConnection ??= logErrors(
    createRedisClient(redisTarget(), {
      ...REDIS_OPTIONS,
      // Subscriptions are long-lived; a per-command timeout would break PSUBSCRIBE replies under load.
      commandTimeout: undefined,
      // lib/subscriber.ts re-subscribes from its own map of live viewers (see there). On a
      // Cluster this only reaches node connections: ioredis moves the subscription to another
      // node by itself when its node leaves, and lib/subscriber.ts treats that as a gap.
      autoResubscribe: false,
      // No INFO ready check: over TLS ioredis may send the first PSUBSCRIBE ahead of it, and
      // Redis refuses INFO on a subscribed connection, which then reconnects (a gap for every
      // viewer). A subscriber has nothing to wait for while Redis loads its data anyway.
      enableReadyCheck: false,
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
