/**
 * The local orchestrator: runs each variation's agent as a child process of the server.
 *
 * It keeps each variation's stdout (the agent's JSON lines) and stderr in log files under
 * RUNWATCH_DATA_DIR, and watches the process: an agent that exits without publishing a
 * final status is reported as failed, with its exit code and last stderr lines, so a crash
 * reaches the viewer as an `agent_error` instead of a pane that spins forever.
 */
import "server-only";
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";
import { serverEnv } from "./env";
import { ApiError } from "./errors";
import { isTerminal, type AgentMessage, type CreateRunRequest } from "./events";
import { publishMessage } from "./publish";
import { getRedis } from "./redis";
import { createRun, type NewRun } from "./runs";
import { parseAgentMessage } from "./sse-events";

const STDERR_TAIL_LINES = 20;

export interface AgentProcessSpec {
  runId: string;
  variationId: string;
  command: string;
  args: string[];
  env: Record<string, string>;
}

export interface AgentExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when the orchestrator had to publish the failure itself. */
  reportedFailure: boolean;
}

const running = new Set<import("node:child_process").ChildProcess>();
let exitHookInstalled = false;

function killChildrenOnExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Agents are our children: do not leave them publishing into a run nobody serves.
  process.once("exit", () => {
    for (const child of running) child.kill("SIGTERM");
  });
}

export function logPaths(runId: string, variationId: string) {
  const dir = path.join(serverEnv().RUNWATCH_DATA_DIR, "logs", runId);
  return { dir, stdout: path.join(dir, `${variationId}.jsonl`), stderr: path.join(dir, `${variationId}.stderr.log`) };
}

export function agentCommand(agent: string): { command: string; args: string[] } {
  if (agent === "demo") {
    const cli = path.join(process.cwd(), "dist", "agent", "cli.mjs");
    if (!fs.existsSync(cli)) {
      throw new ApiError("internal", "The demo agent is not built (dist/agent/cli.mjs is missing): run `npm run build`.");
    }
    return { command: process.execPath, args: [cli] };
  }
  throw new ApiError("bad_request", `agent: unknown agent "${agent}"`);
}

/** Create a run and start its agents. The agent is resolved first so a run is never created that cannot start. */
export async function startRun(request: CreateRunRequest): Promise<NewRun> {
  const command = agentCommand(request.agent);
  const run = await createRun(request);
  launchRun(run, command);
  return run;
}

/** Start every variation of a freshly created run; each promise settles when its agent has exited. */
export function launchRun(run: NewRun, { command, args } = agentCommand(run.agent)): Promise<AgentExit>[] {
  const { REDIS_URL, DEMO_AGENT_SPEED } = serverEnv();
  return run.variationIds.map((variationId) =>
    startAgentProcess({
      runId: run.runId,
      variationId,
      command,
      args,
      env: {
        REDIS_URL,
        RUNWATCH_RUN_ID: run.runId,
        RUNWATCH_VARIATION_ID: variationId,
        RUNWATCH_PROMPT: run.prompt,
        DEMO_AGENT_SPEED: String(DEMO_AGENT_SPEED),
      },
    }),
  );
}

/** Spawn one agent; the promise resolves when it has exited and any failure is reported. */
export function startAgentProcess(spec: AgentProcessSpec): Promise<AgentExit> {
  killChildrenOnExit();
  const paths = logPaths(spec.runId, spec.variationId);
  fs.mkdirSync(paths.dir, { recursive: true });
  const stdoutLog = fs.createWriteStream(paths.stdout, { flags: "a" });
  const stderrLog = fs.createWriteStream(paths.stderr, { flags: "a" });

  // Only what an agent needs: the server's own secrets stay in the server.
  const { PATH, HOME, LANG, NODE_ENV } = process.env;
  const child = spawn(spec.command, spec.args, {
    env: { PATH: PATH ?? "/usr/bin:/bin", HOME: HOME ?? "/", LANG: LANG ?? "C.UTF-8", NODE_ENV: NODE_ENV ?? "production", ...spec.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);

  let lastSequence = 0;
  let finished = false;
  const stderrTail: string[] = [];

  readline.createInterface({ input: child.stdout }).on("line", (line) => {
    stdoutLog.write(`${line}\n`);
    const parsed = parseAgentMessage(line);
    if (!parsed.ok || parsed.message.variation_id !== spec.variationId) return;
    lastSequence = Math.max(lastSequence, parsed.message.sequence);
    if (parsed.message.type === "status" && isTerminal(parsed.message.content)) finished = true;
  });
  readline.createInterface({ input: child.stderr }).on("line", (line) => {
    stderrLog.write(`${line}\n`);
    stderrTail.push(line);
    if (stderrTail.length > STDERR_TAIL_LINES) stderrTail.shift();
  });

  return new Promise<AgentExit>((resolve) => {
    let spawnError: Error | undefined;
    child.once("error", (error) => {
      spawnError = error;
    });
    child.once("close", (code, signal) => {
      running.delete(child);
      stdoutLog.end();
      stderrLog.end();
      if (finished) return resolve({ code, signal, reportedFailure: false });
      const how = spawnError
        ? `could not be started: ${spawnError.message}`
        : signal
          ? `was killed by ${signal}`
          : `exited with code ${code} without reporting a result`;
      const tail = stderrTail.slice(-5).join("\n");
      const message: AgentMessage = {
        type: "status",
        content: "failed",
        run_id: spec.runId,
        variation_id: spec.variationId,
        sequence: lastSequence + 1,
        timestamp: new Date().toISOString(),
        metadata: { error: `Agent ${how}${tail ? `. Last stderr:\n${tail}` : ""}`, ...(code !== null ? { exit_code: code } : {}) },
      };
      publishMessage(getRedis(), message)
        .catch((error: Error) => console.error(`[runwatch] could not report failed agent ${spec.runId}/${spec.variationId}: ${error.message}`))
        .finally(() => resolve({ code, signal, reportedFailure: true }));
    });
  });
}
