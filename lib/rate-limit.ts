/**
 * Rate limits per client on the routes that change things: run creation, control (pause,
 * resume, stop, select) and agent publishing (events, heartbeat). 429 with Retry-After.
 *
 * Counters live in Redis (rate-limiter-flexible's RateLimiterRedis: one key per client and
 * window, incremented by a Lua script), so every app instance sharing the Redis counts
 * together. When Redis is unreachable each instance falls back to counting in its own memory
 * (the insurance limiter) instead of failing the request: the route then answers as it would
 * without a limiter (often its own 503), and the limit holds per instance until Redis is back.
 */
import "server-only";
import { createHash } from "node:crypto";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import { keys } from "./channels";
import { serverEnv, type ServerEnv } from "./env";
import { ApiError } from "./errors";
import { metrics, type RateLimitedRoute } from "./metrics";
import { getRedis, type RedisClient } from "./redis";

export const RATE_LIMITS = {
  run_creation: { variable: "RATE_LIMIT_RUN_CREATION", what: "runs created" },
  control: { variable: "RATE_LIMIT_CONTROL", what: "control requests (pause, resume, stop, select)" },
  agent: { variable: "RATE_LIMIT_AGENT", what: "agent requests (events, heartbeat)" },
  // Tokens are long and random, but a guesser still should not get thousands of tries a minute.
  sign_in: { variable: "RATE_LIMIT_SIGN_IN", what: "sign-in attempts" },
} as const;
export type RateLimitName = keyof typeof RATE_LIMITS;

/**
 * Whom a request is counted against: the hash of its Authorization header when it has one
 * (an agent's run token; later a user's), else its client address. The one place to change
 * when sign-in changes who a client is. Only the hash reaches Redis, never a token.
 */
export function rateLimitKey(request: Request): string {
  const authorization = request.headers.get("authorization")?.trim();
  if (authorization) return `auth:${createHash("sha256").update(authorization).digest("hex")}`;
  return `ip:${clientAddress(request.headers)}`;
}

/**
 * The client's address from X-Forwarded-For, the only place a route handler can read it.
 * `next start` sets the header to the socket's address when a request has none, but keeps one
 * a client sent. We take the last entry: the address the nearest proxy saw, when a proxy in
 * front appends to the header (nginx's $proxy_add_x_forwarded_for); without such a proxy a
 * client can choose its own key (see README, "Limits").
 */
export function clientAddress(headers: Headers): string {
  const entries = (headers.get("x-forwarded-for") ?? "").split(",").map((entry) => entry.trim()).filter(Boolean);
  const last = entries.at(-1);
  if (!last) return "unknown";
  // The same IPv4 client arrives as 127.0.0.1 or ::ffff:127.0.0.1 depending on the socket.
  return last.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, "$1");
}

type RateLimitEnv = Pick<ServerEnv, "RATE_LIMIT_WINDOW_SECONDS" | (typeof RATE_LIMITS)[RateLimitName]["variable"]>;

export function createLimiter(name: RateLimitName, redis: RedisClient, env: RateLimitEnv): RateLimiterRedis | null {
  const points = env[RATE_LIMITS[name].variable];
  if (points === 0) return null;
  const options = { points, duration: env.RATE_LIMIT_WINDOW_SECONDS, keyPrefix: keys.rateLimitPrefix(name) };
  return new RateLimiterRedis({
    ...options,
    storeClient: redis,
    // Straight to the insurance limiter while the connection is down, rather than waiting for
    // each command to time out.
    rejectIfRedisNotReady: true,
    insuranceLimiter: new RateLimiterMemory(options),
  });
}

// Per Redis client: tests close the app's client and get a new one.
const limiters = new WeakMap<RedisClient, Map<RateLimitName, RateLimiterRedis | null>>();

function limiterFor(name: RateLimitName): RateLimiterRedis | null {
  const redis = getRedis();
  let byName = limiters.get(redis);
  if (!byName) limiters.set(redis, (byName = new Map()));
  if (!byName.has(name)) byName.set(name, createLimiter(name, redis, serverEnv()));
  return byName.get(name) ?? null;
}

/** The 429: which limit, its variable, and when to retry (whole seconds, at least 1). */
export function rateLimitError(name: RateLimitName, limit: number, windowSeconds: number, msBeforeNext: number): ApiError {
  const retryAfter = Math.max(1, Math.ceil(msBeforeNext / 1000));
  const { variable, what } = RATE_LIMITS[name];
  const error = new ApiError(
    "too_many_requests",
    `Rate limit reached: at most ${limit} ${what} per ${windowSeconds} s for each client (${variable}); retry in ${retryAfter} s`,
  );
  error.retryAfterSeconds = retryAfter;
  return error;
}

/** Counts this request against `name`; throws the 429 once the client is over the limit. */
export async function enforceRateLimit(name: RateLimitName, request: Request, route: RateLimitedRoute): Promise<void> {
  const limiter = limiterFor(name);
  if (!limiter) return;
  try {
    // Sign-in carries its token in the body: an Authorization header there proves nothing, and
    // keying by it would give a guesser a fresh bucket per made-up header (found in review).
    await limiter.consume(name === "sign_in" ? `ip:${clientAddress(request.headers)}` : rateLimitKey(request));
  } catch (rejection) {
    // With an insurance limiter a store error never lands here; anything else is a bug.
    if (!(rejection instanceof RateLimiterRes)) throw rejection;
    metrics().rateLimited.inc({ route });
    throw rateLimitError(name, limiter.points, limiter.duration, rejection.msBeforeNext);
  }
}
