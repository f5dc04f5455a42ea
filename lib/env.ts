/**
 * Server configuration: the only module that reads process.env. Parsed once, on first use, so
 * a missing variable fails loudly with its name instead of surfacing later as an odd
 * connection error.
 */
import "server-only";
import path from "node:path";
import { z } from "zod";
import { DEFAULT_RUN_TTL_SECONDS, DEFAULT_STREAM_MAXLEN } from "./channels";
import { describeZodError } from "./errors";
import { MAX_EVENTS_BATCH, MAX_VARIATIONS } from "./events";
import { streamingBackendSchema } from "./public-env";
import { redisEnvIssues, redisTargetEnv, redisTargetOf, redisEnvShape, type RedisTarget } from "./redis-connect";

const optionalString = z.preprocess((value) => (value === "" ? undefined : value), z.string().optional());

const serverEnvSchema = z.object({
  /**
   * REDIS_URL (one server), REDIS_SENTINELS + REDIS_SENTINEL_NAME (Sentinel) or
   * REDIS_CLUSTER_NODES (Cluster); with the last two REDIS_URL is optional and gives only
   * credentials and TLS. Checked together below.
   */
  ...redisEnvShape,
  /** Heartbeat comment interval on SSE streams; 30 s keeps proxies with 60 s idle timeouts open. */
  SSE_HEARTBEAT_MS: z.coerce.number().int().min(100).default(30_000),
  /** Multiplies the demo agent's pace; tests use 10+. */
  DEMO_AGENT_SPEED: z.coerce.number().positive().max(1000).default(1),
  /** Agent processes this server runs at once; a run that would exceed it is refused with 429. */
  MAX_RUNNING_AGENTS: z.coerce.number().int().min(1).default(30),
  /**
   * Limits on what a request may carry (lib/limits.ts). The prompt reaches agents as an
   * environment variable, and Linux refuses one longer than 128 KiB (MAX_ARG_STRLEN).
   */
  MAX_PROMPT_BYTES: z.coerce.number().int().min(1).max(120_000).default(64 * 1024),
  MAX_VARIATIONS: z.coerce.number().int().min(1).max(100).default(MAX_VARIATIONS),
  /** One agent message's JSON on POST .../events; the route's body cap follows it (lib/limits.ts). */
  MAX_MESSAGE_BYTES: z.coerce.number().int().min(1024).max(64 * 1024 * 1024).default(1024 * 1024),
  /** At least 100: the agent runtime (agent/transport.ts) sends batches of up to 100 messages. */
  MAX_EVENTS_BATCH: z.coerce.number().int().min(100).max(10_000).default(MAX_EVENTS_BATCH),
  /**
   * Requests per credential or client address (lib/rate-limit.ts) in each window of
   * RATE_LIMIT_WINDOW_SECONDS; 0 turns that limit off.
   */
  RATE_LIMIT_WINDOW_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60),
  RATE_LIMIT_RUN_CREATION: z.coerce.number().int().min(0).default(30),
  RATE_LIMIT_CONTROL: z.coerce.number().int().min(0).default(120),
  /**
   * Per run, since its agents share its token; generous, because each agent posts its next
   * batch as soon as the last is answered, and a 429 only delays its messages.
   */
  RATE_LIMIT_AGENT: z.coerce.number().int().min(0).default(12_000),
  /** Sign-in attempts (POST /api/v1/session) per client address. */
  RATE_LIMIT_SIGN_IN: z.coerce.number().int().min(0).default(20),
  /** Every Redis key of a run expires this long after its last message (its end). */
  RUN_TTL_SECONDS: z.coerce.number().int().min(1).default(DEFAULT_RUN_TTL_SECONDS),
  /** Messages a run's stream keeps (XADD MAXLEN ~); older ones are trimmed. */
  RUN_STREAM_MAXLEN: z.coerce.number().int().min(10).default(DEFAULT_STREAM_MAXLEN),
  /** Agent presets besides the built-in demo (JSON with comments; lib/presets.ts). */
  RUNWATCH_PRESETS_FILE: z.string().min(1).default("runwatch.presets.jsonc"),
  /**
   * The server as agents over HTTP reach it (the runner's RUNWATCH_API_URL). Default: this
   * server on loopback, which is right for agents it starts itself.
   */
  RUNWATCH_AGENT_API_URL: optionalString,
  /** An agent renews its heartbeat key with this TTL; the page marks it unresponsive once it lapses. */
  AGENT_HEARTBEAT_TTL_SECONDS: z.coerce.number().int().min(2).max(3600).default(15),
  /** How long the page waits for an agent to acknowledge pause/resume/stop before saying it did not. */
  CONTROL_ACK_TIMEOUT_MS: z.coerce.number().int().min(500).default(10_000),
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  /**
   * The address the app is bound to (`next start -H`; npm start passes HOST to both). Decides
   * whether RUNWATCH_AUTH may default to none: unset counts as every interface, which is what
   * a bare `next start` binds.
   */
  HOST: optionalString,
  /** none: no sign-in (everyone is an admin); token: viewer/admin tokens (lib/auth.ts). */
  RUNWATCH_AUTH: z.preprocess((value) => (value === "" ? undefined : value), z.enum(["none", "token"]).optional()),
  /** Lets a browser or script watch runs (RUNWATCH_AUTH=token). */
  RUNWATCH_VIEWER_TOKEN: z.preprocess((value) => (value === "" ? undefined : value), z.string().min(16, "at least 16 characters").optional()),
  /** Lets a browser or script also start, control and judge runs (RUNWATCH_AUTH=token). */
  RUNWATCH_ADMIN_TOKEN: z.preprocess((value) => (value === "" ? undefined : value), z.string().min(16, "at least 16 characters").optional()),
  /** Key that signs session cookies; unset: derived from the two tokens. */
  RUNWATCH_SESSION_SECRET: z.preprocess((value) => (value === "" ? undefined : value), z.string().min(32, "at least 32 characters").optional()),
  /** How long a browser stays signed in. */
  RUNWATCH_SESSION_MAX_AGE_SECONDS: z.coerce.number().int().min(60).default(7 * 24 * 3600),
  /** Where agent stdout/stderr logs are kept. */
  RUNWATCH_DATA_DIR: z.string().default(path.join(process.cwd(), ".data")),
  /**
   * Which stream the run page uses. Read by the server at request time (the page passes it to
   * the browser), so switching needs a restart, not a rebuild. Unset means redis.
   */
  NEXT_PUBLIC_STREAMING_BACKEND: z.preprocess(
    (value) => (value === "" ? undefined : value),
    streamingBackendSchema.default("redis"),
  ),
  /** Where agents run: child processes of this server, or Kubernetes Jobs. */
  RUNWATCH_ORCHESTRATOR: z.enum(["local", "kubernetes"]).default("local"),
  /** kubectl binary the log backend runs on Kubernetes. */
  KUBECTL: z.string().min(1).default("kubectl"),
  KUBE_NAMESPACE: z.string().min(1).default("default"),
  /** kubeconfig context for kubectl and the API client; unset means the current context. */
  KUBE_CONTEXT: optionalString,
  /** Image of the agent Jobs (deploy/agent.Dockerfile); required with RUNWATCH_ORCHESTRATOR=kubernetes. */
  KUBE_AGENT_IMAGE: optionalString,
  /** REDIS_URL as seen from inside the cluster, when it differs from the server's. */
  KUBE_AGENT_REDIS_URL: optionalString,
  /**
   * REDIS_URL for agents, when they connect as another Redis user than the server (the
   * restricted runwatch-agent user of deploy/redis/users.acl). KUBE_AGENT_REDIS_URL wins on Kubernetes.
   */
  RUNWATCH_AGENT_REDIS_URL: redisEnvShape.REDIS_URL,
});

export type ServerEnv = z.infer<typeof serverEnvSchema>;

let cached: ServerEnv | undefined;

export function serverEnv(): ServerEnv {
  if (cached) return cached;
  const result = serverEnvSchema
    .refine((env) => env.RUNWATCH_ORCHESTRATOR !== "kubernetes" || env.KUBE_AGENT_IMAGE, {
      message: "KUBE_AGENT_IMAGE must be set when RUNWATCH_ORCHESTRATOR=kubernetes",
      path: ["KUBE_AGENT_IMAGE"],
    })
    .superRefine((env, ctx) => {
      for (const { path, message } of authEnvIssues(env)) ctx.addIssue({ code: "custom", path: [path], message });
      for (const { path, message } of redisEnvIssues(env)) ctx.addIssue({ code: "custom", path: [path], message });
      if (!redisTargetOf(env)) {
        ctx.addIssue({
          code: "custom",
          path: ["REDIS_URL"],
          message:
            "REDIS_URL environment variable is not set (npm start sets it for its own redis-server); for Sentinel set REDIS_SENTINELS and REDIS_SENTINEL_NAME, for Cluster REDIS_CLUSTER_NODES",
        });
      }
    })
    .safeParse(process.env);
  if (!result.success) {
    throw new Error(`Invalid server environment: ${describeZodError(result.error)}`);
  }
  cached = result.data;
  return cached;
}

/** Loopback addresses only: "localhost" and 127.x, ::1. */
export function isLoopbackHost(host: string | undefined): boolean {
  if (!host) return false;
  return host === "localhost" || host === "::1" || host === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** RUNWATCH_AUTH, or its default: none on a loopback address, token when tokens are given. */
export function authMode(env: Pick<ServerEnv, "RUNWATCH_AUTH" | "HOST" | "RUNWATCH_ADMIN_TOKEN" | "RUNWATCH_VIEWER_TOKEN"> = serverEnv()): "none" | "token" {
  if (env.RUNWATCH_AUTH) return env.RUNWATCH_AUTH;
  if (env.RUNWATCH_ADMIN_TOKEN || env.RUNWATCH_VIEWER_TOKEN) return "token";
  return isLoopbackHost(env.HOST) ? "none" : "token";
}

function authEnvIssues(env: Pick<ServerEnv, "RUNWATCH_AUTH" | "HOST" | "RUNWATCH_ADMIN_TOKEN" | "RUNWATCH_VIEWER_TOKEN">): { path: string; message: string }[] {
  if (authMode(env) === "none") return [];
  if (env.RUNWATCH_ADMIN_TOKEN && env.RUNWATCH_VIEWER_TOKEN) {
    return env.RUNWATCH_ADMIN_TOKEN === env.RUNWATCH_VIEWER_TOKEN
      ? [{ path: "RUNWATCH_VIEWER_TOKEN", message: "must differ from RUNWATCH_ADMIN_TOKEN" }]
      : [];
  }
  const why = env.RUNWATCH_AUTH
    ? "RUNWATCH_AUTH=token"
    : `the app is bound to ${env.HOST ?? "every interface (HOST is unset)"}, not to localhost, so it will not run without sign-in unless RUNWATCH_AUTH=none says so`;
  return [{ path: env.RUNWATCH_ADMIN_TOKEN ? "RUNWATCH_VIEWER_TOKEN" : "RUNWATCH_ADMIN_TOKEN", message: `RUNWATCH_ADMIN_TOKEN and RUNWATCH_VIEWER_TOKEN must both be set: ${why}` }];
}

/** The Redis deployment this server uses (validated by serverEnv()). */
export function redisTarget(env: ServerEnv = serverEnv()): RedisTarget {
  const target = redisTargetOf(env);
  if (!target) throw new Error("Invalid server environment: no Redis configured");
  return target;
}

/**
 * The Redis variables an agent on Redis gets: the same deployment, with `url` for REDIS_URL
 * when agents reach Redis at another address or as another user (RUNWATCH_AGENT_REDIS_URL,
 * KUBE_AGENT_REDIS_URL). Sentinel and Cluster
 * addresses are handed on as they are: Cluster nodes announce their own addresses anyway.
 */
export function agentRedisEnv(env: ServerEnv = serverEnv(), url: string | undefined = env.RUNWATCH_AGENT_REDIS_URL ?? env.REDIS_URL): Record<string, string> {
  return redisTargetEnv(redisTargetOf({ ...env, REDIS_URL: url }) ?? redisTarget(env));
}

/** Base URL agents over HTTP post to. */
export function agentApiUrl(env: ServerEnv = serverEnv()): string {
  return env.RUNWATCH_AGENT_API_URL ?? `http://127.0.0.1:${env.PORT}`;
}

/** The few variables of ours an agent process inherits; the server's secrets stay here. */
export function agentBaseEnv(): NodeJS.ProcessEnv {
  const { PATH, HOME, LANG, NODE_ENV } = process.env;
  return { PATH: PATH ?? "/usr/bin:/bin", HOME: HOME ?? "/", LANG: LANG ?? "C.UTF-8", NODE_ENV: NODE_ENV ?? "production" };
}
