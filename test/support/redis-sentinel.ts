/**
 * A real Redis Sentinel setup for tests: a master, one replica and one sentinel (quorum 1),
 * all local. The sentinel is `redis-server <conf> --sentinel`, the same program Debian's
 * `redis-sentinel` package links to, so nothing beyond redis-server is needed.
 */
import { execFile, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { startRedis, waitForRedis } from "../../scripts/lib/redis.mjs";
import { freePort } from "../../scripts/lib/system.mjs";

const run = promisify(execFile);

export const SENTINEL_MASTER_NAME = "runwatch";

export interface RedisSentinelSetup {
  masterPort: number;
  replicaPort: number;
  sentinelPort: number;
  /** REDIS_SENTINELS for this setup. */
  sentinelsEnv: string;
  /** Ask the sentinel for its master's port. */
  currentMasterPort(): Promise<number>;
  stop(): Promise<void>;
}

async function cli(port: number, ...args: string[]): Promise<string> {
  return (await run("redis-cli", ["-p", String(port), ...args])).stdout;
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function startRedisSentinel(dir: string): Promise<RedisSentinelSetup> {
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    await Promise.all(stops.map((s) => s()));
  };
  try {
    const master = await startRedis({ dir: path.join(dir, "master"), persistent: false });
    stops.push(() => master.stop());
    const replica = await startRedis({ dir: path.join(dir, "replica"), persistent: false, extraArgs: ["--replicaof", "127.0.0.1", String(master.port)] });
    stops.push(() => replica.stop());
    await until(async () => (await cli(replica.port, "info", "replication")).includes("master_link_status:up"), "the replica to sync");

    const sentinelPort = await freePort();
    const conf = path.join(dir, "sentinel.conf"); // the sentinel rewrites it: its own file
    fs.writeFileSync(
      conf,
      [
        `port ${sentinelPort}`,
        "bind 127.0.0.1",
        `dir ${dir}`,
        `sentinel monitor ${SENTINEL_MASTER_NAME} 127.0.0.1 ${master.port} 1`,
        `sentinel down-after-milliseconds ${SENTINEL_MASTER_NAME} 2000`,
        `sentinel failover-timeout ${SENTINEL_MASTER_NAME} 10000`,
        "",
      ].join("\n"),
    );
    const sentinel = spawn("redis-server", [conf, "--sentinel"], { stdio: "ignore" });
    const exited = new Promise((resolve) => sentinel.once("exit", resolve));
    stops.push(async () => {
      if (sentinel.exitCode !== null || sentinel.signalCode !== null) return;
      sentinel.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      if (sentinel.exitCode === null && sentinel.signalCode === null) sentinel.kill("SIGKILL");
    });
    await waitForRedis(sentinelPort);
    // A failover needs a replica the sentinel knows of (it learns them from the master's INFO).
    await until(async () => (await cli(sentinelPort, "sentinel", "replicas", SENTINEL_MASTER_NAME)).includes(String(replica.port)), "the sentinel to discover the replica");

    return {
      masterPort: master.port,
      replicaPort: replica.port,
      sentinelPort,
      sentinelsEnv: `127.0.0.1:${sentinelPort}`,
      async currentMasterPort() {
        const [, port] = (await cli(sentinelPort, "sentinel", "get-master-addr-by-name", SENTINEL_MASTER_NAME)).trim().split("\n");
        return Number(port);
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
