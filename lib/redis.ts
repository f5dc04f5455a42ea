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
import type { Command, RedisOptions } from "ioredis";
import { retryDelay } from "./backoff";
import { redisTarget } from "./env";
import { isRedisUnavailable, RedisCircuitOpenError } from "./errors";
import { componentLogger } from "./log";
import { metrics, setRedisCircuitState, type RedisConnectionRole } from "./metrics";
import { CircuitBreaker } from "./redis-breaker";
import { createRedisClient, type RedisClient } from "./redis-connect";
import { withTimeout } from "./timeout";

export type { RedisClient } from "./redis-connect";

/**
 * Process-wide, on globalThis: Next may load this module more than once in one server (each
 * route bundle can get its own instance), and every instance must see the one client, its
 * breaker and guard, and the one probe in flight.
 */
const globalForRedis = globalThis as unknown as {
  runwatchRedis?: RedisClient;
  runwatchRedisGuard?: ReturnType<typeof guardCommands>;
  runwatchRedisBreaker?: CircuitBreaker;
  runwatchRedisProbe?: Promise<void> | null;
  runwatchSubscriberConnection?: RedisClient;
};

/**
 * Reconnect attempts: 100 ms doubling to 2 s, with jitter so the app instances behind a
 * restarted Redis do not all knock in the same millisecond.
 */
const RECONNECT_POLICY = { baseMs: 100, capMs: 2_000, attempts: Infinity };

/** Fail a request fast when Redis is down instead of queueing it for minutes. */
export const REDIS_OPTIONS: RedisOptions = {
  maxRetriesPerRequest: 1,
  connectTimeout: 5_000,
  commandTimeout: 5_000,
  retryStrategy: (attempt) => retryDelay(RECONNECT_POLICY, attempt),
};

/** A probe PING on a stalled socket gives up well before the 5 s command timeout. */
/** How long a dropped connection may take to come back before the breaker opens. */
const RECONNECT_GRACE_MS = 1_000;

const PROBE_TIMEOUT_MS = 2_000;

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

type SendCommand = (command: Command, ...rest: unknown[]) => unknown;

/**
 * Every command of `client` passes `breaker` (lib/redis-breaker.ts): refused at once while it
 * is open, and its outcome reported. sendCommand is where ioredis sends every command, single,
 * pipelined or scripted, on one server and on a Cluster. `bypass()` lets the probe through.
 */
function guardCommands(client: RedisClient, breaker: CircuitBreaker): { bypass<T>(send: () => T): T; wasReady(): boolean } {
  const send = (client.sendCommand as SendCommand).bind(client);
  let bypassing = false;
  // The probe's command: ioredis may send it again later (from its offline queue, on reconnect).
  const probes = new WeakSet<Command>();
  const watched = new WeakSet<Command>();
  (client as unknown as { sendCommand: SendCommand }).sendCommand = (command, ...rest) => {
    if (bypassing) probes.add(command);
    // While connecting, ioredis sends its own handshake (CLIENT SETNAME, INFO...): never refused.
    if (!probes.has(command) && client.status !== "connect" && !breaker.allows()) {
      // The period is over: this request is refused, and the probe it sends decides the next.
      if (breaker.probeDue()) queueMicrotask(() => void probeRedis());
      command.reject(new RedisCircuitOpenError(`Redis circuit breaker is ${breaker.state} (${breaker.reason}): not trying Redis`, breaker.retryAfterSeconds()));
      return command.promise;
    }
    const result = send(command, ...rest);
    if (!watched.has(command)) {
      watched.add(command);
      command.promise.then(
        () => breaker.success(),
        (error: unknown) => {
          if (error instanceof RedisCircuitOpenError) return;
          if (isRedisUnavailable(error)) breaker.failure((error as Error).message);
          else breaker.success(); // Redis answered, with an error of its own
        },
      );
    }
    return result;
  };
  let wasReady = false;
  client.on("ready", () => {
    wasReady = true;
    // Reconnected, and ioredis's handshake was answered: Redis is back, so close at once rather
    // than refuse requests until the open period ends (a Sentinel failover takes well under it).
    breaker.success();
  });
  // Before the first "ready" commands wait in the offline queue for the first connection. After
  // a drop they wait there too for a moment: a Sentinel failover or a restarted proxy is back
  // within it, and refusing those requests would turn a blip into errors. Still not back: open.
  client.on("close", () => {
    if (!wasReady) return;
    setTimeout(() => {
      if (client.status !== "ready") breaker.trip("the connection to Redis closed");
    }, RECONNECT_GRACE_MS).unref();
  });
  return {
    wasReady: () => wasReady,
    bypass(fn) {
      bypassing = true;
      try {
        return fn();
      } finally {
        bypassing = false;
      }
    },
  };
}

/**
 * The command connection is down after having been up (it is reconnecting): nothing sent now
 * can be answered until it is back. Null while it is up, or still making its first connection.
 */
export function redisConnectionLost(): string | null {
  const client = globalForRedis.runwatchRedis;
  // Of the current client: one closed on purpose (closeRedis) says nothing about the next.
  if (!client || !globalForRedis.runwatchRedisGuard?.wasReady() || client.status === "ready") return null;
  return `the connection to Redis is down (${client.status})`;
}

/** Send the half-open probe if it is due (one at a time); resolves once it is answered or failed. */
export function probeRedis(): Promise<void> {
  const breaker = redisBreaker();
  if (globalForRedis.runwatchRedisProbe) return globalForRedis.runwatchRedisProbe;
  const client = getRedis();
  const guard = globalForRedis.runwatchRedisGuard!;
  if (!breaker.startProbe()) return Promise.resolve();
  // The ping is sent inside a promise chain: a throw while sending fails the probe (the breaker
  // opens again) instead of leaving it half-open with nobody probing.
  const probe = Promise.resolve()
    .then(() => withTimeout(guard.bypass(() => client.ping()), PROBE_TIMEOUT_MS, `no PONG within ${PROBE_TIMEOUT_MS} ms`))
    .then(
      () => breaker.success(),
      (error: Error) => breaker.failure(error.message),
    )
    .finally(() => {
      globalForRedis.runwatchRedisProbe = null;
    });
  globalForRedis.runwatchRedisProbe = probe;
  return probe;
}

/** The command client's breaker: its state is /api/health's and a metric's. */
export function redisBreaker(): CircuitBreaker {
  globalForRedis.runwatchRedisBreaker ??= new CircuitBreaker({
    failureThreshold: 3,
    openMs: 500,
    maxOpenMs: 5_000,
    onChange: (state, reason) => {
      setRedisCircuitState(state);
      componentLogger("redis").warn({ circuit: state, reason }, `redis circuit breaker ${state}`);
    },
  });
  return globalForRedis.runwatchRedisBreaker;
}

export function getRedis(): RedisClient {
  if (!globalForRedis.runwatchRedis) {
    const client = logErrors(createRedisClient(redisTarget(), { ...REDIS_OPTIONS, connectionName: "runwatch:app" }), "command");
    globalForRedis.runwatchRedisGuard = guardCommands(client, redisBreaker());
    globalForRedis.runwatchRedis = client;
  }
  return globalForRedis.runwatchRedis;
}

export function getSubscriberConnection(): RedisClient {
  globalForRedis.runwatchSubscriberConnection ??= logErrors(
    createRedisClient(redisTarget(), {
      ...REDIS_OPTIONS,
      // Subscriptions are long-lived; a per-command timeout would break PSUBSCRIBE replies under load.
      commandTimeout: undefined,
      // A dropped connection ends every subscription: lib/subscriber.ts tells each subscriber
      // at once, and those still interested subscribe again (see there). On a Cluster this only
      // reaches node connections: ioredis moves the subscription to another node by itself when
      // its node leaves, and lib/subscriber.ts treats that the same way.
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
  globalForRedis.runwatchRedisGuard = undefined;
  globalForRedis.runwatchRedisProbe = null;
  globalForRedis.runwatchRedisBreaker = undefined;
  globalForRedis.runwatchSubscriberConnection = undefined;
  await Promise.all(clients.map((c) => c?.quit().catch(() => c.disconnect())));
}
