/** What the benchmarks share: a production app on a throwaway redis-server, and statistics. */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startRedis } from "../scripts/lib/redis.mjs";
import { freePort, ROOT } from "../scripts/lib/system.mjs";

export interface BenchApp {
  url: string;
  redisUrl: string;
  stop(): Promise<void>;
}

async function waitForHealth(url: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await fetch(url).then((r) => r.ok, () => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not become healthy`);
}

/** `next start` of the production build, with its own redis-server. */
export async function startApp(env: Record<string, string>): Promise<BenchApp> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "runwatch-bench-"));
  const redisServer = await startRedis({ dir: path.join(dir, "redis"), persistent: false });
  const port = await freePort();
  const app: ChildProcess = spawn(process.execPath, [path.join(ROOT, "node_modules", "next", "dist", "bin", "next"), "start", "-p", String(port), "-H", "127.0.0.1"], {
    cwd: ROOT,
    env: { ...process.env, REDIS_URL: redisServer.url, RUNWATCH_DATA_DIR: path.join(dir, "data"), PORT: String(port), NEXT_TELEMETRY_DISABLED: "1", ...env },
    stdio: "ignore",
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHealth(`${url}/api/health`);
  return {
    url,
    redisUrl: redisServer.url,
    async stop() {
      app.kill("SIGTERM");
      await redisServer.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export const median = (values: readonly number[]) => percentile(values, 50);

export function machine(): string {
  return `${os.cpus().length} cpu, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`;
}
