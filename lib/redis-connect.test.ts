import Redis, { Cluster } from "ioredis";
import { afterEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { readAgentEnv } from "../agent/env";
import { describeZodError } from "./errors";
import {
  clusterOptionsFrom,
  createRedisClient,
  redisEnvIssues,
  redisEnvShape,
  redisTargetEnv,
  redisTargetOf,
  type RedisClient,
  type RedisTarget,
} from "./redis-connect";

const parse = (env: Record<string, string>) => z.object(redisEnvShape).safeParse(env);

describe("REDIS_SENTINELS and REDIS_CLUSTER_NODES", () => {
  it("read comma-separated host:port lists, IPv6 in brackets, blanks as unset", () => {
    const parsed = parse({ REDIS_CLUSTER_NODES: "10.0.0.1:7000, redis-2.internal:7001,[::1]:7002", REDIS_SENTINELS: "" });
    expect(parsed.success && parsed.data).toEqual({
      REDIS_CLUSTER_NODES: [
        { host: "10.0.0.1", port: 7000 },
        { host: "redis-2.internal", port: 7001 },
        { host: "::1", port: 7002 },
      ],
    });
  });

  it("refuse anything else, naming the variable and the bad entries", () => {
    for (const [name, value] of [
      ["REDIS_CLUSTER_NODES", "10.0.0.1"],
      ["REDIS_CLUSTER_NODES", "10.0.0.1:7000,10.0.0.2:99999"],
      ["REDIS_SENTINELS", "redis://10.0.0.1:26379"],
      ["REDIS_SENTINELS", ","],
    ] as const) {
      const parsed = parse({ [name]: value });
      expect(parsed.success).toBe(false);
      if (!parsed.success) expect(describeZodError(parsed.error)).toMatch(new RegExp(`^${name}: ${name} must be a comma-separated list of host:port`));
    }
  });

  it("say which combinations cannot work", () => {
    const nodes = [{ host: "a", port: 1 }];
    expect(redisEnvIssues({ REDIS_URL: "redis://a:1" })).toEqual([]);
    expect(redisEnvIssues({ REDIS_SENTINELS: nodes, REDIS_SENTINEL_NAME: "mymaster", REDIS_URL: "redis://:pw@x/2" })).toEqual([]);
    expect(redisEnvIssues({ REDIS_SENTINELS: nodes, REDIS_SENTINEL_NAME: "m", REDIS_CLUSTER_NODES: nodes }).map((i) => i.message)).toEqual([
      "set REDIS_SENTINELS (Sentinel) or REDIS_CLUSTER_NODES (Cluster), not both",
    ]);
    expect(redisEnvIssues({ REDIS_SENTINELS: nodes })).toEqual([{ path: "REDIS_SENTINEL_NAME", message: expect.stringMatching(/must be set with REDIS_SENTINELS/) }]);
    expect(redisEnvIssues({ REDIS_SENTINEL_NAME: "m" })).toEqual([{ path: "REDIS_SENTINELS", message: expect.stringMatching(/must be set with REDIS_SENTINEL_NAME/) }]);
    expect(redisEnvIssues({ REDIS_CLUSTER_NODES: nodes, REDIS_URL: "redis://:pw@x:1/3" })).toEqual([{ path: "REDIS_URL", message: expect.stringMatching(/only database 0/) }]);
  });
});

describe("which deployment", () => {
  const nodes = [{ host: "10.0.0.1", port: 7000 }, { host: "::1", port: 7001 }];

  it("is Cluster with REDIS_CLUSTER_NODES, Sentinel with REDIS_SENTINELS, else the one server of REDIS_URL", () => {
    expect(redisTargetOf({ REDIS_URL: "redis://a:1" })).toEqual({ mode: "single", url: "redis://a:1" });
    expect(redisTargetOf({ REDIS_CLUSTER_NODES: nodes })).toEqual({ mode: "cluster", nodes });
    expect(redisTargetOf({ REDIS_CLUSTER_NODES: nodes, REDIS_URL: "rediss://:pw@x" })).toEqual({ mode: "cluster", nodes, url: "rediss://:pw@x" });
    expect(redisTargetOf({ REDIS_SENTINELS: nodes, REDIS_SENTINEL_NAME: "mymaster" })).toEqual({ mode: "sentinel", sentinels: nodes, name: "mymaster" });
    expect(redisTargetOf({})).toBeNull();
  });

  it("is named again by the same variables, for agents", () => {
    for (const target of [
      { mode: "single", url: "redis://a:1" },
      { mode: "cluster", nodes, url: "redis://:pw@x" },
      { mode: "sentinel", sentinels: nodes, name: "mymaster" },
    ] satisfies RedisTarget[]) {
      const env = redisTargetEnv(target);
      const parsed = parse(env);
      expect(parsed.success && redisTargetOf(parsed.data)).toEqual(target);
    }
    expect(redisTargetEnv({ mode: "cluster", nodes })).toEqual({ REDIS_CLUSTER_NODES: "10.0.0.1:7000,[::1]:7001" });
  });
});

describe("createRedisClient", () => {
  const clients: RedisClient[] = [];
  const make = (target: RedisTarget, options = {}) => {
    const client = createRedisClient(target, { lazyConnect: true, ...options });
    clients.push(client);
    return client;
  };
  afterEach(() => {
    for (const client of clients.splice(0)) client.disconnect();
  });

  it("fails commands to a Cluster that never answers after the connect timeout, instead of holding them forever", async () => {
    // Port 1: nothing listens, like a Cluster down at startup or a typo in REDIS_CLUSTER_NODES.
    const client = createRedisClient({ mode: "cluster", nodes: [{ host: "127.0.0.1", port: 1 }] }, { maxRetriesPerRequest: 1, connectTimeout: 300 });
    clients.push(client);
    client.on("error", () => {});
    const started = Date.now();
    await expect(client.get("x")).rejects.toThrow(/unreachable|Connection is closed|isn't ready|startup nodes/);
    await expect(client.get("y")).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("makes a plain connection for one server", () => {
    const client = make({ mode: "single", url: "redis://:secret@10.0.0.9:6380/2" }, { connectionName: "runwatch:app" });
    expect(client).toBeInstanceOf(Redis);
    expect(client).not.toBeInstanceOf(Cluster);
    expect((client as Redis).options).toMatchObject({ host: "10.0.0.9", port: 6380, password: "secret", db: 2, connectionName: "runwatch:app" });
  });

  it("makes a Sentinel connection, with credentials, database and TLS from REDIS_URL and no address from it", () => {
    const sentinels = [{ host: "10.0.0.1", port: 26379 }];
    const client = make({ mode: "sentinel", sentinels, name: "mymaster", url: "rediss://app:p%40ss@ignored:1/3" }, { autoResubscribe: false });
    expect(client).toBeInstanceOf(Redis);
    expect((client as Redis).options).toMatchObject({
      sentinels,
      name: "mymaster",
      username: "app",
      password: "p@ss",
      db: 3,
      tls: {},
      enableTLSForSentinelMode: true,
      failoverDetector: true,
      autoResubscribe: false,
    });
  });

  it("makes a Cluster, with per-node options apart from the Cluster's own", () => {
    const retryStrategy = (attempt: number) => attempt * 100;
    const client = make({ mode: "cluster", nodes: [{ host: "10.0.0.1", port: 7000 }], url: "redis://:pw@ignored" }, { retryStrategy, commandTimeout: 5_000, connectionName: "runwatch:app", enableOfflineQueue: false });
    expect(client).toBeInstanceOf(Cluster);
    const { options } = client as Cluster;
    expect(options.redisOptions).toMatchObject({ password: "pw", commandTimeout: 5_000, connectionName: "runwatch:app" });
    expect(options.redisOptions).not.toHaveProperty("retryStrategy");
    expect(options.clusterRetryStrategy?.(3)).toBe(300);
    expect(options).toMatchObject({ enableOfflineQueue: false, lazyConnect: true });
    expect(client.status).toBe("wait"); // lazy: nothing connected
  });

  it("leaves database and plain connections out of a Cluster's node options", () => {
    const options = clusterOptionsFrom({ maxRetriesPerRequest: 1 }, "redis://10.0.0.1:7000");
    expect(options).toEqual({ redisOptions: { maxRetriesPerRequest: 1 } });
  });
});

describe("the server's environment", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  /** lib/env.ts parses once per module instance: a fresh one per case. */
  async function serverEnvWith(vars: Record<string, string>) {
    vi.resetModules();
    for (const name of ["REDIS_URL", "REDIS_SENTINELS", "REDIS_SENTINEL_NAME", "REDIS_CLUSTER_NODES"]) vi.stubEnv(name, vars[name] ?? "");
    return import("./env");
  }

  it("needs one deployment, and says how to name each", async () => {
    const env = await serverEnvWith({});
    expect(() => env.serverEnv()).toThrow(
      "Invalid server environment: REDIS_URL: REDIS_URL environment variable is not set (npm start sets it for its own redis-server); for Sentinel set REDIS_SENTINELS and REDIS_SENTINEL_NAME, for Cluster REDIS_CLUSTER_NODES",
    );
  });

  it("takes a Cluster without REDIS_URL and hands it to agents", async () => {
    const env = await serverEnvWith({ REDIS_CLUSTER_NODES: "10.0.0.1:7000,10.0.0.2:7000" });
    expect(env.redisTarget()).toMatchObject({ mode: "cluster", nodes: [{ host: "10.0.0.1", port: 7000 }, { host: "10.0.0.2", port: 7000 }] });
    expect(env.agentRedisEnv()).toEqual({ REDIS_CLUSTER_NODES: "10.0.0.1:7000,10.0.0.2:7000" });
    // KUBE_AGENT_REDIS_URL stands in for REDIS_URL only: credentials and TLS.
    expect(env.agentRedisEnv(env.serverEnv(), "rediss://:pw@redis")).toEqual({ REDIS_CLUSTER_NODES: "10.0.0.1:7000,10.0.0.2:7000", REDIS_URL: "rediss://:pw@redis" });
  });

  it("hands agents the server's one Redis, or the URL they reach it at", async () => {
    const env = await serverEnvWith({ REDIS_URL: "redis://127.0.0.1:6379" });
    expect(env.agentRedisEnv()).toEqual({ REDIS_URL: "redis://127.0.0.1:6379" });
    expect(env.agentRedisEnv(env.serverEnv(), "redis://redis.default.svc:6379")).toEqual({ REDIS_URL: "redis://redis.default.svc:6379" });
  });

  it("refuses half a Sentinel configuration and two deployments at once", async () => {
    const half = await serverEnvWith({ REDIS_SENTINELS: "10.0.0.1:26379" });
    expect(() => half.serverEnv()).toThrow(/REDIS_SENTINEL_NAME: REDIS_SENTINEL_NAME must be set with REDIS_SENTINELS/);
    const both = await serverEnvWith({ REDIS_SENTINELS: "a:1", REDIS_SENTINEL_NAME: "m", REDIS_CLUSTER_NODES: "b:2" });
    expect(() => both.serverEnv()).toThrow(/REDIS_CLUSTER_NODES: set REDIS_SENTINELS \(Sentinel\) or REDIS_CLUSTER_NODES \(Cluster\), not both/);
  });
});

describe("the agent's environment", () => {
  const base = { NODE_ENV: "test", RUNWATCH_RUN_ID: "run-0a1b2c3d4e5f", RUNWATCH_VARIATION_ID: "var-1" } as const;

  it("reaches Redis through a Cluster or Sentinel without REDIS_URL", () => {
    expect(redisTargetOf(readAgentEnv({ ...base, REDIS_CLUSTER_NODES: "10.0.0.1:7000" }))).toEqual({ mode: "cluster", nodes: [{ host: "10.0.0.1", port: 7000 }] });
    expect(redisTargetOf(readAgentEnv({ ...base, REDIS_SENTINELS: "10.0.0.1:26379", REDIS_SENTINEL_NAME: "mymaster" }))).toMatchObject({ mode: "sentinel", name: "mymaster" });
  });

  it("refuses half a Sentinel configuration, and no way to publish at all", () => {
    expect(() => readAgentEnv({ ...base, REDIS_SENTINEL_NAME: "mymaster" })).toThrow(/REDIS_SENTINELS: REDIS_SENTINELS \(host:port,...\) must be set with REDIS_SENTINEL_NAME/);
    expect(() => readAgentEnv(base)).toThrow(/set REDIS_URL \(or REDIS_SENTINELS and REDIS_SENTINEL_NAME, or REDIS_CLUSTER_NODES\) to publish to Redis/);
  });
});
