/**
 * LineSource over `kubectl logs -f job/<name>`: the agents' stdout when they run as Kubernetes
 * Jobs (lib/kube/orchestrator.ts). kubectl, not the API client, because it already handles
 * every kubeconfig auth plugin and finds the Job's pod for us.
 *
 * kubectl is restarted when it stops early (pod not started yet, API server cutting a long
 * stream, a transient error). Every restart prints the pod's log from its start again, so we
 * count complete lines and skip the ones already delivered: handlers see each line once, in
 * order. (That count is only right while the kubelet keeps the whole log; agents' logs are small.)
 */
import "server-only";
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { StringDecoder } from "node:string_decoder";
import { isRunId, VARIATION_ID_PATTERN } from "../ids";
import type { LineHandlers, LineSource } from "../line-source";
import { componentLogger, runLogger } from "../log";
import { jobName, LABELS } from "./job-spec";

export interface KubectlSourceOptions {
  kubectl: string;
  namespace: string;
  context?: string;
  /** How long a pod may take to start (image pull, scheduling) before we give up. */
  podWaitTimeoutMs?: number;
  /** First delay between restarts; failures other than "not started" back off from it. */
  retryDelayMs?: number;
}

const DEFAULT_POD_WAIT_MS = 5 * 60_000;
const DEFAULT_RETRY_DELAY_MS = 1_000;
const MAX_FAILURE_RETRIES = 3;
const STDERR_TAIL_LINES = 5;
const DISCOVER_TIMEOUT_MS = 15_000;
/** kubectl's own wait for a pod to appear; we retry around it, so one call need not wait long. */
const MAX_POD_RUNNING_TIMEOUT_S = 30;
/**
 * What kubectl says while the Job or its pod is not there or not started yet (not found yet,
 * unscheduled, pulling its image, no pod within --pod-running-timeout). Narrow on purpose: a
 * kubeconfig error must not be waited on for minutes.
 */
const NOT_STARTED =
  /\(NotFound\)|(jobs\.batch|pods) "[^"]*" not found|waiting to start|ContainerCreating|PodInitializing|pending|does not have a host assigned|timed out waiting for the condition/i;

export function createKubectlSource(options: KubectlSourceOptions): LineSource {
  const scope = ["-n", options.namespace, ...(options.context ? ["--context", options.context] : [])];
  return {
    follow(runId, variationId, handlers, followOptions) {
      const follower = new KubectlFollower(options, scope, runId, variationId, handlers, followOptions?.toEnd ?? false);
      follower.start();
      return () => follower.stop();
    },
    discoverVariations: (runId) => discoverVariations(options.kubectl, scope, runId),
  };
}

class KubectlFollower {
  private readonly podWaitMs: number;
  private readonly retryDelayMs: number;
  private args: string[] = [];
  private child: ChildProcess | undefined;
  private timer: NodeJS.Timeout | undefined;
  private done = false;
  /** Complete lines handed to `line` so far, over every kubectl run. */
  private delivered = 0;
  private failures = 0;
  private waitingSince: number | undefined;
  /** The previous run exited 0: one more run that brings nothing new means the log is over. */
  private confirming = false;

  constructor(
    private readonly options: KubectlSourceOptions,
    private readonly scope: string[],
    private readonly runId: string,
    private readonly variationId: string,
    private readonly handlers: LineHandlers,
    /** The run is over: a Job that is not there will not appear (deleted after its TTL, never created). */
    private readonly finished: boolean,
  ) {
    this.podWaitMs = options.podWaitTimeoutMs ?? DEFAULT_POD_WAIT_MS;
    this.retryDelayMs = options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS;
  }

  start(): void {
    try {
      const waitS = Math.min(MAX_POD_RUNNING_TIMEOUT_S, Math.max(1, Math.ceil(this.podWaitMs / 1000)));
      const job = `job/${jobName(this.runId, this.variationId)}`;
      this.args = ["logs", "-f", job, ...this.scope, `--pod-running-timeout=${waitS}s`];
    } catch (error) {
      // Not synchronously: the caller does not have its `stop` yet.
      queueMicrotask(() => this.finish((error as Error).message));
      return;
    }
    this.run();
  }

  stop(): void {
    this.done = true;
    clearTimeout(this.timer);
    this.child?.kill("SIGTERM");
    this.child = undefined;
  }

  private run(): void {
    let child: ChildProcess;
    try {
      child = spawn(this.options.kubectl, this.args, { stdio: ["ignore", "pipe", "pipe"] });
    } catch (error) {
      // spawn throws synchronously on arguments it cannot pass; report it like the other paths, later.
      queueMicrotask(() => this.finish(this.spawnFailure(error as NodeJS.ErrnoException)));
      return;
    }
    this.child = child;
    const deliveredBefore = this.delivered;
    const decoder = new StringDecoder("utf8");
    let pending = "";
    let seen = 0;
    const stderr: string[] = [];
    let spawnError: NodeJS.ErrnoException | undefined;

    child.stdout?.on("data", (chunk: Buffer) => {
      const parts = (pending + decoder.write(chunk)).split("\n");
      // The last part has no newline yet: it may be a line kubectl was cut off in the middle of.
      pending = parts.pop() ?? "";
      for (const part of parts) if (++seen > this.delivered) this.deliver(part);
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr.push(...chunk.toString("utf8").split("\n").filter((l) => l.trim()));
      stderr.splice(0, Math.max(0, stderr.length - STDERR_TAIL_LINES));
    });
    // Without a listener a missing binary would be an unhandled 'error' event; "close" follows it.
    child.on("error", (error: NodeJS.ErrnoException) => (spawnError = error));
    child.on("close", (code, signal) => {
      if (this.done || this.child !== child) return;
      this.child = undefined;
      if (spawnError) return this.finish(this.spawnFailure(spawnError));
      const progressed = this.delivered > deliveredBefore;
      const lastStderr = stderr.at(-1) ?? "(nothing on stderr)";
      if (code === 0) return this.onCleanExit(progressed, pending + decoder.end(), seen);
      this.confirming = false;
      if (progressed) this.failures = 0;
      if (NOT_STARTED.test(stderr.join("\n"))) {
        if (this.finished) return this.finish(`its Job's log is not available (the run is over): ${lastStderr}`);
        return this.onNotStarted(lastStderr);
      }
      this.waitingSince = undefined;
      if (++this.failures > MAX_FAILURE_RETRIES) {
        return this.finish(`kubectl logs exited with ${code === null ? `signal ${signal}` : `code ${code}`}: ${lastStderr}`);
      }
      this.retryIn(this.retryDelayMs * 2 ** (this.failures - 1));
    });
  }

  private onCleanExit(progressed: boolean, rest: string, seen: number): void {
    this.waitingSince = undefined;
    this.failures = 0;
    if (this.confirming && !progressed) {
      // The log really ends with a line without a newline: now we know it is complete.
      if (rest && seen >= this.delivered) this.deliver(rest);
      return this.finish();
    }
    this.confirming = true;
    this.retryIn(0);
  }

  private onNotStarted(lastStderr: string): void {
    const now = Date.now();
    this.waitingSince ??= now;
    if (now - this.waitingSince >= this.podWaitMs) {
      return this.finish(`pod for ${this.variationId} did not start within ${describeMs(this.podWaitMs)}: ${lastStderr}`);
    }
    this.retryIn(this.retryDelayMs);
  }

  private retryIn(ms: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.done) this.run();
    }, ms);
  }

  private spawnFailure(error: NodeJS.ErrnoException): string {
    if (error.code === "ENOENT") {
      return `kubectl was not found (KUBECTL=${this.options.kubectl}): install it or set KUBECTL to its path`;
    }
    return `kubectl could not be started (KUBECTL=${this.options.kubectl}): ${error.message}`;
  }

  private deliver(line: string): void {
    if (this.done) return;
    this.delivered += 1;
    try {
      this.handlers.line(line.endsWith("\r") ? line.slice(0, -1) : line);
    } catch (error) {
      runLogger(this.runId, this.variationId).error({ err: error }, "kubectl line handler failed");
    }
  }

  private finish(error?: string): void {
    if (this.done) return;
    this.stop();
    try {
      this.handlers.end(error);
    } catch (handlerError) {
      runLogger(this.runId, this.variationId).error({ err: handlerError }, "kubectl end handler failed");
    }
  }
}

function describeMs(ms: number): string {
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000} min`;
  return ms >= 1_000 ? `${Math.round(ms / 1_000)} s` : `${ms} ms`;
}

/** `kubectl get jobs -l runwatch/run-id=<id>`: the run's variations, or null; never throws. */
async function discoverVariations(kubectl: string, scope: string[], runId: string): Promise<string[] | null> {
  if (!isRunId(runId)) return null;
  const args = ["get", "jobs", ...scope, "-l", `${LABELS.runId}=${runId}`, "-o", "json"];
  const stdout = await runToCompletion(kubectl, args, DISCOVER_TIMEOUT_MS);
  if (stdout === null) return null;
  try {
    const list = JSON.parse(stdout) as { items?: { metadata?: { labels?: Record<string, string> } }[] };
    const ids = new Set<string>();
    for (const item of list.items ?? []) {
      const id = item.metadata?.labels?.[LABELS.variationId];
      if (id && VARIATION_ID_PATTERN.test(id)) ids.add(id);
    }
    // Numeric collation, so var-10 comes after var-9.
    return ids.size ? [...ids].sort((a, b) => a.localeCompare(b, "en", { numeric: true })) : null;
  } catch {
    return null;
  }
}

/** stdout of a successful run, or null (missing binary, non-zero exit, timeout). */
function runToCompletion(command: string, args: string[], timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    try {
      execFile(command, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout) => {
        if (error) componentLogger("kubectl").warn({ command, args, error: error.message.split("\n")[0] }, "kubectl failed");
        resolve(error ? null : stdout);
      });
    } catch (error) {
      // spawn throws synchronously on arguments it cannot pass (e.g. a NUL byte).
      componentLogger("kubectl").warn({ command, err: error }, "kubectl could not be started");
      resolve(null);
    }
  });
}
