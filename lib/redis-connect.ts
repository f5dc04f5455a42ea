/**
 * Which Redis deployment the environment names, and a client for it, through ioredis's own
 * support for each: one server (REDIS_URL), Sentinel (REDIS_SENTINELS + REDIS_SENTINEL_NAME)
 * or Cluster (REDIS_CLUSTER_NODES). README, "Redis deployments", says which fits which scale.
 *
 * Shared by the server (lib/redis.ts, lib/env.ts) and the agent runner (agent/transport.ts,
 * agent/env.ts), so no `server-only` here, and no process.env: each side reads its own
 * environment and hands the variables in.
 */
import fs from "node:fs";
import Redis, { Cluster, type ClusterOptions, type RedisOptions } from "ioredis";
import { z } from "zod";

/** A server's connection or a Cluster's: they share the commands Runwatch uses. */
export type RedisClient = Redis | Cluster;

export interface HostPort {
  host: string;
  port: number;
}

/** `tlsCaFile`: a PEM file of the CA that signed Redis's certificate (REDIS_TLS_CA_FILE), for rediss://. */
export type RedisTarget =
  | { mode: "single"; url: string; tlsCaFile?: string }
  /** `url`, when set, only gives credentials, TLS (rediss://) and the database number. */
  | { mode: "sentinel"; sentinels: HostPort[]; name: string; url?: string; tlsCaFile?: string }
  /** `url`, when set, only gives credentials and TLS (rediss://). */
  | { mode: "cluster"; nodes: HostPort[]; url?: string; tlsCaFile?: string };

const blankIsUnset = (value: unknown) => (value === "" ? undefined : value);

/** "host:port" or "[ipv6]:port"; null when malformed. */
function parseHostPort(text: string): HostPort | null {
  const match = /^(?:\[([^\]]+)\]|([^:\s]+)):(\d{1,5})$/.exec(text.trim());
  const port = Number(match?.[3]);
  const host = match?.[1] ?? match?.[2];
  if (!host || !Number.isInteger(port) || port < 1 || port > 65535) return null;
  return { host, port };
}

export function formatHostPorts(list: readonly HostPort[]): string {
  return list.map(({ host, port }) => `${host.includes(":") ? `[${host}]` : host}:${port}`).join(",");
}

function hostPortList(name: string) {
  return z.preprocess(
    blankIsUnset,
    z
      .string()
      .transform((text, ctx) => {
        const parts = text.split(",").map((part) => part.trim()).filter(Boolean);
        const parsed = parts.map(parseHostPort);
        const bad = parts.filter((_, i) => !parsed[i]);
        if (parts.length === 0 || bad.length > 0) {
          ctx.addIssue({
            code: "custom",
            message: `${name} must be a comma-separated list of host:port, e.g. 10.0.0.1:${name.includes("SENTINEL") ? 26379 : 7000},10.0.0.2:${name.includes("SENTINEL") ? 26379 : 7000}${bad.length ? ` (not host:port: ${bad.map((b) => `"${b}"`).join(", ")})` : ""}`,
          });
          return z.NEVER;
        }
        return parsed as HostPort[];
      })
      .optional(),
  );
}

/** The Redis variables, for the server's and the agent's env schemas alike. */
export const redisEnvShape = {
  /** One server; with Sentinel or Cluster only its credentials and TLS are used. */
  REDIS_URL: z.preprocess(blankIsUnset, z.string().regex(/^rediss?:\/\//, "REDIS_URL must start with redis:// or rediss://").optional()),
  REDIS_SENTINELS: hostPortList("REDIS_SENTINELS"),
  /** The master's name in the sentinels' configuration (`sentinel monitor <name> ...`). */
  REDIS_SENTINEL_NAME: z.preprocess(blankIsUnset, z.string().min(1).optional()),
  REDIS_CLUSTER_NODES: hostPortList("REDIS_CLUSTER_NODES"),
  /**
   * With rediss://: a PEM file of the CA that signed Redis's certificate, when it is not one
   * Node trusts already (a private CA, a self-signed certificate). Agents get the same path.
   */
  REDIS_TLS_CA_FILE: z.preprocess(blankIsUnset, z.string().min(1).optional()),
};

export interface RedisEnv {
  REDIS_URL?: string;
  REDIS_SENTINELS?: HostPort[];
  REDIS_SENTINEL_NAME?: string;
  REDIS_CLUSTER_NODES?: HostPort[];
  REDIS_TLS_CA_FILE?: string;
}

export interface RedisEnvIssue {
  path: keyof RedisEnv;
  message: string;
}

/** Combinations that cannot work, each naming the variable to fix. Missing everything is not one (see redisTargetOf). */
export function redisEnvIssues(env: RedisEnv): RedisEnvIssue[] {
  const issues: RedisEnvIssue[] = [];
  if (env.REDIS_SENTINELS && env.REDIS_CLUSTER_NODES) {
    issues.push({ path: "REDIS_CLUSTER_NODES", message: "set REDIS_SENTINELS (Sentinel) or REDIS_CLUSTER_NODES (Cluster), not both" });
  }
  if (env.REDIS_SENTINELS && !env.REDIS_SENTINEL_NAME) {
    issues.push({ path: "REDIS_SENTINEL_NAME", message: "REDIS_SENTINEL_NAME must be set with REDIS_SENTINELS: the master's name the sentinels monitor" });
  }
  if (env.REDIS_SENTINEL_NAME && !env.REDIS_SENTINELS) {
    issues.push({ path: "REDIS_SENTINELS", message: "REDIS_SENTINELS (host:port,...) must be set with REDIS_SENTINEL_NAME" });
  }
  if (env.REDIS_CLUSTER_NODES && env.REDIS_URL && databaseOf(env.REDIS_URL) !== undefined) {
    issues.push({ path: "REDIS_URL", message: "REDIS_URL names a database, but Redis Cluster has only database 0: drop the /<db> from it" });
  }
  return issues;
}

/** The deployment the (validated) variables name; null when none is (an agent may use HTTP instead). */
export function redisTargetOf(env: RedisEnv): RedisTarget | null {
  const url = env.REDIS_URL;
  const ca = env.REDIS_TLS_CA_FILE ? { tlsCaFile: env.REDIS_TLS_CA_FILE } : {};
  if (env.REDIS_CLUSTER_NODES) return { mode: "cluster", nodes: env.REDIS_CLUSTER_NODES, ...(url ? { url } : {}), ...ca };
  if (env.REDIS_SENTINELS && env.REDIS_SENTINEL_NAME) {
    return { mode: "sentinel", sentinels: env.REDIS_SENTINELS, name: env.REDIS_SENTINEL_NAME, ...(url ? { url } : {}), ...ca };
  }
  return url ? { mode: "single", url, ...ca } : null;
}

/** The variables that name `target` again, for a process that must reach the same Redis (an agent). */
export function redisTargetEnv(target: RedisTarget): Record<string, string> {
  return { ...addressEnv(target), ...(target.tlsCaFile ? { REDIS_TLS_CA_FILE: target.tlsCaFile } : {}) };
}

function addressEnv(target: RedisTarget): Record<string, string> {
  switch (target.mode) {
    case "single":
      return { REDIS_URL: target.url };
    case "sentinel":
      return { REDIS_SENTINELS: formatHostPorts(target.sentinels), REDIS_SENTINEL_NAME: target.name, ...(target.url ? { REDIS_URL: target.url } : {}) };
    case "cluster":
      return { REDIS_CLUSTER_NODES: formatHostPorts(target.nodes), ...(target.url ? { REDIS_URL: target.url } : {}) };
  }
}

function databaseOf(url: string): number | undefined {
  const db = new URL(url).pathname.replace(/^\//, "");
  return db === "" ? undefined : Number(db);
}

/** TLS options for a rediss:// URL: Node's trusted CAs, or the one REDIS_TLS_CA_FILE names. */
function tlsOptions(caFile: string | undefined): NonNullable<RedisOptions["tls"]> {
  return caFile ? { ca: fs.readFileSync(caFile) } : {};
}

/** What a REDIS_URL still says when the addresses come from elsewhere. */
function urlOptions(url: string | undefined, caFile?: string): Pick<RedisOptions, "username" | "password" | "db" | "tls"> {
  if (!url) return {};
  const parsed = new URL(url);
  const db = databaseOf(url);
  return {
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(db !== undefined ? { db } : {}),
    ...(parsed.protocol === "rediss:" ? { tls: tlsOptions(caFile) } : {}),
  };
}

/**
 * Cluster takes per-node options apart from its own: reconnecting is the Cluster's job
 * (clusterRetryStrategy; ioredis gives node connections none), and so are queueing commands
 * while it is not ready and connecting lazily.
 */
export function clusterOptionsFrom(options: RedisOptions, url: string | undefined, caFile?: string): ClusterOptions {
  const { retryStrategy, enableOfflineQueue, lazyConnect, ...nodeOptions } = options;
  // A Cluster has only database 0 (lib/env.ts refuses a REDIS_URL naming another).
  const { username, password, tls } = urlOptions(url, caFile);
  return {
    redisOptions: { ...nodeOptions, ...(username ? { username } : {}), ...(password ? { password } : {}), ...(tls ? { tls } : {}) },
    ...(retryStrategy ? { clusterRetryStrategy: (times: number) => retryStrategy(times) } : {}),
    ...(enableOfflineQueue !== undefined ? { enableOfflineQueue } : {}),
    ...(lazyConnect !== undefined ? { lazyConnect } : {}),
  };
}

/** A connection to `target` with `options` (timeouts, retries, connection name...). */
export function createRedisClient(target: RedisTarget, options: RedisOptions = {}): RedisClient {
  switch (target.mode) {
    case "single":
      // ioredis reads the URL for what `options` does not set: rediss:// alone means `tls: {}`.
      return new Redis(target.url, { ...(target.url.startsWith("rediss:") && target.tlsCaFile ? { tls: tlsOptions(target.tlsCaFile) } : {}), ...options });
    case "sentinel": {
      const fromUrl = urlOptions(target.url, target.tlsCaFile);
      return new Redis({
        ...options,
        ...fromUrl,
        sentinels: target.sentinels,
        name: target.name,
        // Reconnect as soon as the sentinels announce a new master (+switch-master), rather than
        // when the old one is reconfigured as a replica: until then it still takes writes, lost
        // once it is. Costs one more connection, to a sentinel.
        failoverDetector: true,
        // Without it ioredis would not use `tls` for the master it finds through the sentinels.
        ...(fromUrl.tls ? { enableTLSForSentinelMode: true } : {}),
      });
    }
    case "cluster":
      return failFastOnceReady(new Cluster(target.nodes, clusterOptionsFrom(options, target.url, target.tlsCaFile)), options);
  }
}

/**
 * Calls `listener` whenever a Cluster's subscriptions move to a new connection while the
 * Cluster is up. ioredis keeps them on one node's connection of its own and, when that
 * connection ends (its node failed, or Redis dropped it), re-subscribes on another node without
 * telling anyone: what was published in between is lost, so the caller must treat it as a
 * reconnect. (A Cluster that was down as a whole emits "close" and "ready" instead.) ioredis
 * has no event for this, so its ClusterSubscriber's selectSubscriber is wrapped: ioredis is
 * pinned, and test/integration/redis-cluster.test.ts fails if this stops working. Answers
 * false when it cannot hook in (not a Cluster: nothing to do; or ioredis changed).
 */
export function onClusterSubscriptionMoved(client: RedisClient, listener: () => void): boolean {
  if (!(client instanceof Cluster)) return false;
  const inner = (client as unknown as { subscriber?: { selectSubscriber?: () => void } }).subscriber;
  const select = inner?.selectSubscriber;
  if (!inner || typeof select !== "function") return false;
  inner.selectSubscriber = () => {
    select.call(inner);
    if (client.status === "ready") listener();
  };
  return true;
}

/**
 * A server connection with maxRetriesPerRequest fails queued commands once a reconnect fails;
 * a Cluster has no such limit and would hold them until it is back, however long. So once it
 * has been ready (commands sent while it first connects still wait), commands sent while it is
 * down fail at once, as they do on one server.
 */
function failFastOnceReady(cluster: Cluster, options: RedisOptions): Cluster {
  if (typeof options.maxRetriesPerRequest !== "number" || options.enableOfflineQueue === false) return cluster;
  // A Cluster that is unreachable from the start (down, or a typo in REDIS_CLUSTER_NODES) never
  // becomes ready: after the connect timeout, fail what waits and what comes, like one server.
  const giveUp = setTimeout(() => {
    cluster.options.enableOfflineQueue = false;
    (cluster as unknown as { flushQueue?: (error: Error) => void }).flushQueue?.(new Error("Redis Cluster is unreachable (Connection is closed): no node answered"));
  }, options.connectTimeout ?? 10_000);
  giveUp.unref();
  cluster.once("ready", () => {
    clearTimeout(giveUp);
    cluster.options.enableOfflineQueue = false;
  });
  return cluster;
}
