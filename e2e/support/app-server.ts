/**
 * A Runwatch server a test can kill and restart (the shared Playwright web servers cannot be),
 * with its own redis-server and data folder, or sharing another server's Redis (several app
 * instances over one Redis). Runs the production build, like `npm start`.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startRedis } from "../../scripts/lib/redis.mjs";
// Runwatch's server, as `npm start` runs it (its Node flags too).
import { serverArgs } from "../../scripts/lib/server-node.mjs";
import { freePort, ROOT } from "../../scripts/lib/system.mjs";

type RedisServer = Awaited<ReturnType<typeof startRedis>>;

export interface AppServerOptions {
  /** Use this Redis (another AppServer's `redisUrl`) instead of starting one; it is left running on dispose. */
  redisUrl?: string;
}

export class AppServer {
  readonly dataDir: string;
  private child: ChildProcess | null = null;
  /** What the server printed (its JSON log lines): a failing test shows the warnings. */
  output = "";

  private constructor(
    readonly port: number,
    private readonly env: NodeJS.ProcessEnv,
    /** null: the Redis at REDIS_URL belongs to someone else. */
    private readonly redis: RedisServer | null,
    private readonly dir: string,
  ) {
    this.dataDir = path.join(dir, "data");
  }

  static async create(env: Record<string, string>, options: AppServerOptions = {}): Promise<AppServer> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "runwatch-e2e-"));
    const redis = options.redisUrl ? null : await startRedis({ dir: path.join(dir, "redis"), persistent: false });
    const redisUrl = options.redisUrl ?? redis!.url;
    const port = await freePort();
    const fullEnv = { ...process.env, HOST: "127.0.0.1", NEXT_TELEMETRY_DISABLED: "1", LOG_LEVEL: process.env.LOG_LEVEL ?? "warn", REDIS_URL: redisUrl, RUNWATCH_DATA_DIR: path.join(dir, "data"), PORT: String(port), ...env };
    return new AppServer(port, fullEnv, redis, dir);
  }

  get redisUrl(): string {
    return this.env.REDIS_URL!;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn(process.execPath, serverArgs(this.port, "127.0.0.1"), { cwd: ROOT, env: this.env, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout?.on("data", (chunk) => (this.output += chunk));
    child.stderr?.on("data", (chunk) => (this.output += chunk));
    this.child = child;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`the server exited with code ${child.exitCode}:\n${this.output}`);
      const healthy = await fetch(`${this.url}/api/health`).then((r) => r.ok, () => false);
      if (healthy) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`the server did not become healthy within 60 s:\n${this.output}`);
  }

  /** SIGKILL: no goodbye to the browsers. The agents (its children) keep running, as pods would. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
  }

  async dispose(): Promise<void> {
    await this.kill();
    await this.redis?.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
