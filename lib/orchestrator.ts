/**
 * The local orchestrator: runs each variation's agent as a child process of the server.
 *
 * It keeps each variation's stdout (the agent's JSON lines) and stderr in log files under
 * RUNWATCH_DATA_DIR, and watches the process: an agent that exits without publishing a
 * final status is reported as failed, with its exit code and last stderr lines, so a crash
 * reaches the viewer as an `agent_error` instead of a pane that spins forever.
 */
import "server-only";
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { appendStdoutLine, logPaths, readTailLines, summariseStdout, writeRunManifest } from "./agent-logs";
import { keys } from "./channels";
import { agentEnvFor } from "./agent-env";
import { agentBaseEnv, agentRedisEnv, serverEnv } from "./env";
import { ingestRunNow } from "./ingest";
import { ApiError } from "./errors";
import { runLogger } from "./log";
import { isTerminal, variationStatusSchema, type AgentMessage, type CreateRunRequest } from "./events";
import { publishFailure } from "./publish";
import { expandEnv, resolvePresets, type Preset } from "./presets";
import { getRedis } from "./redis";
import { createRun, type NewRun } from "./runs";

const STDERR_TAIL_LINES = 5;

export interface AgentProcessSpec {
  runId: string;
  variationId: string;
  command: string;
  args: string[];
  env: Record<string, string>;
}

/** Resolves once no agent process of this server is running or starting (tests, shutdown). */
export async function agentsIdle(timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (running.size + reservedSlots > 0) {
    if (Date.now() > deadline) throw new Error(`${running.size} agent process(es) still running after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface AgentExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when the orchestrator had to publish the failure itself. */
  reportedFailure: boolean;
}

const running = new Set<ChildProcess>();
/** Slots taken by runs between the limit check and their processes being spawned. */
let reservedSlots = 0;
let exitHookInstalled = false;

function killChildrenOnExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Agents are our children: do not leave them publishing into a run nobody serves.
  process.once("exit", () => {
    for (const child of running) child.kill("SIGTERM");
  });
}

/** The agent runner (agent/cli.ts): plays the demo, or runs a preset's command, for one variation. */
export function runnerCommand(): { command: string; args: string[] } {
  const cli = path.join(process.cwd(), "dist", "agent", "cli.mjs");
  if (!fs.existsSync(cli)) {
    throw new ApiError("internal", "The agent runner is not built (dist/agent/cli.mjs is missing): run `npm run build`.");
  }
  return { command: process.execPath, args: [cli] };
}

/** Create a run and start its agents. Presets are resolved first so a run is never created that cannot start. */
export async function startRun(request: CreateRunRequest): Promise<NewRun> {
  const presets = resolvePresets(request.agents);
  // A preset that names an unset ${VAR} is the request's problem (400) before any run exists.
  for (const preset of presets) expandEnv(preset.env, process.env, preset.name);
  if (serverEnv().RUNWATCH_ORCHESTRATOR === "kubernetes") return startKubernetesRun(request, presets);
  const runner = runnerCommand();
  const count = request.agents.length;
  const limit = serverEnv().MAX_RUNNING_AGENTS;
  // Slots are reserved before the first await, so concurrent requests cannot all pass the check.
  if (running.size + reservedSlots + count > limit) {
    const error = new ApiError(
      "too_many_requests",
      `${running.size + reservedSlots} agent processes are running or starting and this run needs ${count} more (limit ${limit}, MAX_RUNNING_AGENTS). Wait for a run to finish.`,
    );
    error.retryAfterSeconds = 10;
    throw error;
  }
  reservedSlots += count;
  try {
    fs.mkdirSync(path.join(serverEnv().RUNWATCH_DATA_DIR, "logs"), { recursive: true });
    const run = await createRun(request);
    writeRunManifest(run.runId, run.variationIds);
    launchRun(run, presets, runner); // adds every process to `running` synchronously
    return run;
  } finally {
    reservedSlots -= count;
  }
}

/**
 * Agents as Kubernetes Jobs (lib/kube/orchestrator.ts, loaded only here). The cluster is
 * checked before the run is created, so a server without one refuses the run instead of
 * creating one nobody will ever run. The agent image holds the runner; a command preset's
 * program must be installed in it.
 */
async function startKubernetesRun(request: CreateRunRequest, presets: Preset[]): Promise<NewRun> {
  const { launchKubernetesRun, loadBatchApi } = await import("./kube/orchestrator");
  await loadBatchApi(serverEnv().KUBE_CONTEXT);
  const run = await createRun(request);
  await launchKubernetesRun(run, presets);
  return run;
}

/** Start every variation of a freshly created run; each promise settles when its agent has exited. */
export function launchRun(run: NewRun, presets: readonly Preset[], { command, args }: { command: string; args: string[] }): Promise<AgentExit>[] {
  return run.variationIds.map((variationId, i) => {
    let env: Record<string, string>;
    try {
      env = agentEnvFor(run, i, presets[i]!, agentRedisEnv());
    } catch (error) {
      return reportFailure({ runId: run.runId, variationId, command, args, env: {} }, 0, `could not be started: ${(error as Error).message}`, null).then(() => ({ code: null, signal: null, reportedFailure: true }));
    }
    return startAgentProcess({ runId: run.runId, variationId, command, args, env });
  });
}

/** Spawn one agent; the promise resolves when it has exited and any failure is reported. */
export function startAgentProcess(spec: AgentProcessSpec): Promise<AgentExit> {
  killChildrenOnExit();
  const paths = logPaths(spec.runId, spec.variationId);
  const failedToStart = (reason: string): Promise<AgentExit> =>
    reportFailure(spec, 0, `could not be started: ${reason}`, null).then(() => ({ code: null, signal: null, reportedFailure: true }));

  let child: ChildProcess;
  const files: number[] = [];
  try {
    fs.mkdirSync(paths.dir, { recursive: true });
    files.push(fs.openSync(paths.stdout, "a"));
    files.push(fs.openSync(paths.stderr, "a"));
    // The agent writes its own log files: they outlive a restart of this server, and the log
    // backend reads them. Only what an agent needs is in its environment; our secrets stay here.
    child = spawn(spec.command, spec.args, { env: { ...agentBaseEnv(), ...spec.env }, stdio: ["ignore", files[0]!, files[1]!] });
  } catch (error) {
    // A log folder we cannot create, or spawn's synchronous throw (e.g. a NUL in the environment).
    return failedToStart((error as Error).message);
  } finally {
    // The child has its own copies of the descriptors.
    for (const fd of files) fs.closeSync(fd);
  }
  running.add(child);

  return new Promise<AgentExit>((resolve) => {
    let spawnError: Error | undefined;
    child.once("error", (error) => {
      spawnError = error;
    });
    child.once("close", (code, signal) => {
      running.delete(child);
      const { lastSequence, finished } = summariseStdout(spec.runId, spec.variationId);
      void hasFinalStatus(spec, finished).then((done) => {
        if (done) return resolve({ code, signal, reportedFailure: false });
        const how = spawnError
          ? `could not be started: ${spawnError.message}`
          : signal
            ? `was killed by ${signal}`
            : `exited with code ${code} without reporting a result`;
        const tail = readTailLines(paths.stderr, STDERR_TAIL_LINES).join("\n");
        // A signal's conventional exit code (128 + its number), as a shell would report it.
        const exitCode = code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : null);
        void reportFailure(spec, lastSequence, `${how}${tail ? `. Last stderr:\n${tail}` : ""}`, exitCode).then(() =>
          resolve({ code, signal, reportedFailure: true }),
        );
      });
    });
  });
}

/**
 * Did the agent's final status reach Redis? Its stdout line alone is not proof: the agent
 * prints before it publishes. The hash is the truth; stdout is the fallback when Redis is down.
 */
async function hasFinalStatus(spec: AgentProcessSpec, sawOnStdout: boolean): Promise<boolean> {
  try {
    // Its last messages may still be in the run's inbox (lib/ingest.ts): publish them first.
    await ingestRunNow(spec.runId);
    const raw = await getRedis().hget(keys.runVariations(spec.runId), spec.variationId);
    const status = variationStatusSchema.safeParse(raw);
    return status.success && isTerminal(status.data);
  } catch {
    return sawOnStdout;
  }
}

async function reportFailure(spec: AgentProcessSpec, lastSequence: number, reason: string, exitCode: number | null): Promise<void> {
  const report = { runId: spec.runId, variationId: spec.variationId, error: `Agent ${reason}`, exitCode, atLeast: lastSequence + 1 };
  // In the stdout log too: the log backend learns of the crash from there, even with Redis down.
  const writeToLog = (message: AgentMessage) => appendStdoutLine(spec.runId, spec.variationId, JSON.stringify(message));
  await publishFailure(getRedis(), report, writeToLog).catch((error: Error) => {
    runLogger(spec.runId, spec.variationId).error({ err: error }, "could not report the failed agent to Redis");
    writeToLog({ type: "status", content: "failed", run_id: spec.runId, variation_id: spec.variationId, sequence: lastSequence + 1, timestamp: new Date().toISOString(), metadata: { error: report.error, ...(exitCode !== null ? { exit_code: exitCode } : {}) } });
  });
}
