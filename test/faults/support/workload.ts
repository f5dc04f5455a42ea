/**
 * The fault suite's world: one persistent redis-server (AOF, so a restart keeps the runs),
 * two instances of Runwatch's server (server.mjs, the production build) over it, runs of the "steady" command
 * agent through the public API, and what each run's agents meant to publish (their stdout).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startRedis } from "../../../scripts/lib/redis.mjs";
import { ROOT } from "../../../scripts/lib/system.mjs";
import { AppServer } from "../../../e2e/support/app-server";

export type RedisServer = Awaited<ReturnType<typeof startRedis>>;

export interface World {
  dir: string;
  redis: RedisServer;
  apps: [AppServer, AppServer];
  /** `onDown` is called once it has exited. */
  restartRedis(downMs: number, onDown: () => void): Promise<number>;
  dispose(): Promise<void>;
}

export const HEARTBEAT_MS = 1_000;

export async function startWorld(): Promise<World> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "runwatch-faults-"));
  const presets = path.join(dir, "presets.json");
  fs.writeFileSync(presets, JSON.stringify({ presets: [{ name: "steady", description: "fault suite workload", command: ["node", path.join(ROOT, "test/faults/steady-agent.mjs"), "--spec={prompt}"] }] }));
  let redis = await startRedis({ dir: path.join(dir, "redis"), persistent: true });
  const env = { SSE_HEARTBEAT_MS: String(HEARTBEAT_MS), RUNWATCH_PRESETS_FILE: presets, MAX_RUNNING_AGENTS: "30", LOG_LEVEL: "warn" };
  const apps: [AppServer, AppServer] = [await AppServer.create(env, { redisUrl: redis.url }), await AppServer.create(env, { redisUrl: redis.url })];
  await Promise.all(apps.map((app) => app.start()));
  return {
    dir,
    get redis() {
      return redis;
    },
    apps,
    /** SIGTERM (AOF flushed), `downMs` away, started again on its port; resolves when it is back. */
    async restartRedis(downMs, onDown) {
      await redis.stop();
      onDown();
      await new Promise((r) => setTimeout(r, downMs));
      redis = await startRedis({ dir: path.join(dir, "redis"), persistent: true, port: redis.port });
      return Date.now();
    },
    async dispose() {
      redis.child.kill("SIGCONT");
      for (const app of apps) await app.dispose();
      await redis.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A run of `variations` steady agents, each writing `ticks` lines `intervalMs` apart (the prompt carries both). */
export async function createRun(app: AppServer, variations: number, ticks: number, intervalMs = 50): Promise<string> {
  const response = await fetch(`${app.url}/api/v1/runs`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ prompt: `${ticks}x${intervalMs}`, agents: Array.from({ length: variations }, () => "steady") }),
  });
  if (response.status !== 202) throw new Error(`POST /api/v1/runs: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { run_id: string }).run_id;
}

export interface PublishedMessage {
  variation_id: string;
  sequence: number;
  type: string;
  content: unknown;
  metadata?: Record<string, unknown>;
}

/** What each agent of the run printed (it prints every message before publishing it). */
export function publishedMessages(app: AppServer, runId: string): PublishedMessage[] {
  const dir = path.join(app.dataDir, "logs", runId);
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".jsonl"))
    .flatMap((f) => fs.readFileSync(path.join(dir, f), "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as PublishedMessage));
}

/** The pid of a variation's agent runner (a child of the app that started the run). */
export function agentPid(runId: string, variationId: string): number {
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").includes("dist/agent/cli.mjs")) continue;
      const environ = fs.readFileSync(`/proc/${entry}/environ`, "utf8").split("\0");
      if (environ.includes(`RUNWATCH_RUN_ID=${runId}`) && environ.includes(`RUNWATCH_VARIATION_ID=${variationId}`)) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  throw new Error(`no agent process for ${runId} ${variationId}`);
}

export interface HealthSample {
  at: number;
  /** 0: no answer at all. */
  status: number;
  circuit?: string;
  /** How long the answer took. */
  ms: number;
}

/** /api/health (or another path) polled every 200 ms: every answer with its time. */
export function pollHealth(url: string, path = "/api/health"): { samples: HealthSample[]; stop(): void } {
  const samples: HealthSample[] = [];
  let stopped = false;
  void (async () => {
    while (!stopped) {
      const at = Date.now();
      const sample = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(10_000) })
        .then(async (r) => {
          const text = await r.text();
          const circuit = r.headers.get("content-type")?.includes("json") ? (JSON.parse(text) as { circuit?: string }).circuit : undefined;
          return { status: r.status, circuit };
        })
        .catch(() => ({ status: 0 }));
      samples.push({ at, ms: Date.now() - at, ...sample });
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  return { samples, stop: () => void (stopped = true) };
}
