/**
 * One error type for API answers. Route handlers catch everything and call `toErrorResponse`,
 * so a user always gets JSON `{error: {code, message}}` and never a stack trace.
 */
import { ZodError } from "zod";

const STATUS_BY_CODE = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  too_many_requests: 429,
  unprocessable: 422,
  redis_unavailable: 503,
  internal: 500,
} as const;

export type ApiErrorCode = keyof typeof STATUS_BY_CODE;

export class ApiError extends Error {
  readonly status: number;

  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "ApiError";
    this.status = STATUS_BY_CODE[code];
  }

  /** Seconds after which a retry may succeed (Retry-After on 429/503). */
  retryAfterSeconds?: number;

  toResponse(): Response {
    return Response.json(
      { error: { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) } },
      {
        status: this.status,
        headers: {
          ...(this.retryAfterSeconds ? { "Retry-After": String(this.retryAfterSeconds) } : {}),
          ...(this.status === 401 ? { "WWW-Authenticate": 'Bearer realm="runwatch"' } : {}),
        },
      },
    );
  }
}

/** "field: reason; field: reason", naming the field so the user knows what to fix. */
export function describeZodError(error: ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length ? issue.path.join(".") : "body"}: ${issue.message}`)
    .join("; ");
}

// The last ones are Redis Cluster's (lib/redis-connect.ts fails commands at once while it is down).
const CONNECTION_FAILURE =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EHOSTUNREACH|Connection is closed|Stream isn't writeable|Command timed out|None of startup nodes is available|Cluster isn't ready|CLUSTERDOWN|Failed to refresh slots cache/i;

/**
 * A command refused by the Redis circuit breaker (lib/redis-breaker.ts) without trying Redis:
 * it is known to be away. Carries when to try again.
 */
export class RedisCircuitOpenError extends Error {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
    this.name = "RedisCircuitOpenError";
  }
}

/** ioredis reports an unreachable server in several shapes; all of them mean "Redis is down". */
export function isRedisUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === "MaxRetriesPerRequestError" || error instanceof RedisCircuitOpenError) return true;
  return CONNECTION_FAILURE.test(error.message);
}

export function toErrorResponse(error: unknown, context: string): Response {
  if (error instanceof ApiError) return error.toResponse();
  if (error instanceof ZodError) {
    return new ApiError("bad_request", describeZodError(error), { issues: error.issues }).toResponse();
  }
  if (isRedisUnavailable(error)) {
    const circuitOpen = error instanceof RedisCircuitOpenError;
    // The breaker logged once when it opened; a line per refused request would flood the log.
    if (!circuitOpen) console.warn(`[runwatch] ${context}: Redis unavailable: ${(error as Error).message}`);
    const answer = new ApiError(
      "redis_unavailable",
      "Redis is unavailable; the server will retry. Check that redis-server is running and REDIS_URL (or REDIS_SENTINELS, REDIS_CLUSTER_NODES) is right.",
    );
    answer.retryAfterSeconds = circuitOpen ? error.retryAfterSeconds : 1;
    return answer.toResponse();
  }
  console.error(`[runwatch] ${context}: unexpected error`, error);
  return new ApiError("internal", "Internal server error").toResponse();
}
