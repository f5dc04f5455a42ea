/**
 * A real Redis Cluster for tests: N local `redis-server --cluster-enabled yes` nodes (masters,
 * no replicas) joined with `redis-cli --cluster create`, ready once every node says
 * `cluster_state:ok`.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { startRedis } from "../../scripts/lib/redis.mjs";
import { freePort } from "../../scripts/lib/system.mjs";

const run = promisify(execFile);

export interface RedisClusterNodes {
  ports: number[];
  /** REDIS_CLUSTER_NODES for these nodes. */
  nodesEnv: string;
  stop(): Promise<void>;
}

async function clusterInfo(port: number): Promise<string> {
  const { stdout } = await run("redis-cli", ["-p", String(port), "cluster", "info"]);
  return stdout;
}

export async function startRedisCluster(dir: string, count = 3): Promise<RedisClusterNodes> {
  const nodes: Awaited<ReturnType<typeof startRedis>>[] = [];
  const stop = async () => {
    await Promise.all(nodes.map((node) => node.stop()));
  };
  try {
    for (let i = 0; i < count; i++) {
      const nodeDir = path.join(dir, `node-${i}`);
      fs.mkdirSync(nodeDir, { recursive: true });
      // The bus port is given, not left at port + 10000, which may not be a valid or free port.
      const busPort = await freePort();
      nodes.push(
        await startRedis({
          dir: nodeDir,
          persistent: false,
          extraArgs: ["--cluster-enabled", "yes", "--cluster-config-file", path.join(nodeDir, `nodes-${i}.conf`), "--cluster-port", String(busPort), "--cluster-node-timeout", "5000"],
        }),
      );
    }
    const ports = nodes.map((node) => node.port);
    await run("redis-cli", ["--cluster", "create", ...ports.map((p) => `127.0.0.1:${p}`), "--cluster-replicas", "0", "--cluster-yes"]);
    const deadline = Date.now() + 20_000;
    for (;;) {
      const infos = await Promise.all(ports.map(clusterInfo));
      if (infos.every((info) => info.includes("cluster_state:ok") && info.includes(`cluster_known_nodes:${count}`))) break;
      if (Date.now() > deadline) throw new Error(`the cluster did not reach cluster_state:ok within 20 s:\n${infos.join("\n")}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return { ports, nodesEnv: ports.map((p) => `127.0.0.1:${p}`).join(","), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
