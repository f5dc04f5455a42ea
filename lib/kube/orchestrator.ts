/**
 * The Kubernetes orchestrator: one Job per variation instead of one child process.
 *
 * The API client is loaded with a dynamic import, here only, so a server that runs agents
 * locally never loads it. Agents publish to Redis themselves, exactly as local ones do; this
 * module only reports what they cannot: a Job the API refused, and a Job that failed without
 * its agent having published a final status (crash, OOM kill, image that never started).
 */
import "server-only";
import type { BatchV1Api, V1JobStatus } from "@kubernetes/client-node";
import { agentEnvFor } from "../agent-env";
import { keys } from "../channels";
import { agentRedisEnv, serverEnv } from "../env";
import { ingestRunNow } from "../ingest";
import { ApiError } from "../errors";
import { isTerminal, variationStatusSchema } from "../events";
import { runLogger } from "../log";
import type { Preset } from "../presets";
import { publishFailure } from "../publish";
import { getRedis } from "../redis";
import type { NewRun } from "../runs";
import { buildJobSpec, jobName } from "./job-spec";

/** Finished Jobs stay a day, so `kubectl logs` (the log backend) can still replay them. */
const TTL_SECONDS_AFTER_FINISHED = 24 * 3600;
/** Kubernetes fails a Job running longer (DeadlineExceeded), which also ends a pod stuck pulling its image. */
const ACTIVE_DEADLINE_SECONDS = 2 * 3600;
const POLL_INTERVAL_MS = 5_000;
/** A little past the Jobs' own deadline, so the watcher sees them fail. */
const WATCH_DEADLINE_MS = (ACTIVE_DEADLINE_SECONDS + 10 * 60) * 1000;

const isTrue = (status: V1JobStatus | undefined, type: string) =>
  status?.conditions?.some((c) => c.type === type && c.status === "True") ?? false;

/**
 * Why the Job failed, or null while it runs or once it succeeded. With backoffLimit 0 one
 * failed pod fails the Job; `failed` covers the moment before the controller adds the condition.
 */
export function jobFailureReason(status: V1JobStatus | undefined): string | null {
  const condition = status?.conditions?.find((c) => (c.type === "Failed" || c.type === "FailureTarget") && c.status === "True");
  if (condition) {
    return [condition.reason, condition.message].filter(Boolean).join(": ") || "the Job failed";
  }
  if (!isTrue(status, "Complete") && (status?.failed ?? 0) > 0) return "the agent's pod failed";
  return null;
}

/** True once nothing more will happen to the Job: it succeeded or failed. */
export function isJobFinished(status: V1JobStatus | undefined): boolean {
  return isTrue(status, "Complete") || isTrue(status, "SuccessCriteriaMet") || jobFailureReason(status) !== null;
}

/** The API server's own message (a Status body), not the client's dump of headers. */
export function describeKubeError(error: unknown): string {
  const { code, body } = (error ?? {}) as { code?: unknown; body?: unknown };
  if (typeof code === "number") {
    let parsed = body;
    if (typeof body === "string") {
      try {
        parsed = JSON.parse(body);
      } catch {
        parsed = body;
      }
    }
    const message = typeof parsed === "string" ? parsed : (parsed as { message?: unknown } | undefined)?.message;
    return `HTTP ${code}${typeof message === "string" && message ? `: ${message}` : ""}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * Create the run's Jobs. Resolves once every Job was created or its failure reported; the
 * Jobs are then watched in the background. Throws only when there is no cluster to talk to.
 */
export async function launchKubernetesRun(run: NewRun, presets: readonly Preset[]): Promise<void> {
  const env = serverEnv();
  const image = env.KUBE_AGENT_IMAGE;
  if (!image) {
    throw new ApiError("internal", "KUBE_AGENT_IMAGE must be set to run agents on Kubernetes (see deploy/agent.Dockerfile)");
  }
  const api = await loadBatchApi(env.KUBE_CONTEXT);
  const namespace = env.KUBE_NAMESPACE;
  const created: string[] = [];
  await Promise.all(
    run.variationIds.map(async (variationId, index) => {
      try {
        const body = buildJobSpec({
          run,
          variationId,
          image,
          namespace,
          agentEnv: agentEnvFor(run, index, presets[index]!, agentRedisEnv(env, env.KUBE_AGENT_REDIS_URL ?? env.RUNWATCH_AGENT_REDIS_URL ?? env.REDIS_URL)),
          ttlSecondsAfterFinished: TTL_SECONDS_AFTER_FINISHED,
          activeDeadlineSeconds: ACTIVE_DEADLINE_SECONDS,
        });
        await api.createNamespacedJob({ namespace, body });
        created.push(variationId);
      } catch (error) {
        await reportFailure(run.runId, variationId, `Kubernetes Job could not be created: ${describeKubeError(error)}`);
      }
    }),
  );
  if (created.length === 0) return;
  watchJobs(api, namespace, run.runId, created).catch((error: unknown) => {
    runLogger(run.runId).error({ err: error }, "stopped watching the run's Jobs");
  });
}

/** The API client for the configured cluster; an ApiError naming what to fix when there is none. */
export async function loadBatchApi(context: string | undefined): Promise<BatchV1Api> {
  try {
    const k8s = await import("@kubernetes/client-node");
    const config = new k8s.KubeConfig();
    // KUBECONFIG, ~/.kube/config, or the pod's service account when the server runs in the cluster.
    config.loadFromDefault();
    if (context) {
      if (!config.getContextObject(context)) {
        const known = config.getContexts().map((c) => c.name).join(", ") || "none";
        throw new Error(`KUBE_CONTEXT "${context}" is not in the kubeconfig (its contexts: ${known})`);
      }
      config.setCurrentContext(context);
    }
    const cluster = config.getCurrentCluster();
    // With nothing to load, the client silently falls back to an unauthenticated localhost:8080.
    if (!cluster || (config.getCurrentContext() === "loaded-context" && cluster.server === "http://localhost:8080")) {
      throw new Error("no cluster is configured: set KUBECONFIG, create ~/.kube/config, or run the server in the cluster (deploy/k8s/rbac.yaml)");
    }
    return config.makeApiClient(k8s.BatchV1Api);
  } catch (error) {
    throw new ApiError("internal", `Could not load the Kubernetes configuration: ${(error as Error).message}`);
  }
}

/** Poll until every Job is finished (or gone), reporting failures agents could not report. */
async function watchJobs(api: BatchV1Api, namespace: string, runId: string, variationIds: string[]): Promise<void> {
  const deadline = Date.now() + WATCH_DEADLINE_MS;
  let watching = variationIds;
  while (watching.length > 0 && Date.now() < deadline) {
    // unref: a watcher must not keep a server (or a test process) alive on its own.
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS).unref());
    const done = await Promise.all(watching.map((variationId) => checkJob(api, namespace, runId, variationId)));
    watching = watching.filter((_, i) => !done[i]);
  }
}

/** True when this Job needs no more watching. */
async function checkJob(api: BatchV1Api, namespace: string, runId: string, variationId: string): Promise<boolean> {
  let status: V1JobStatus | undefined;
  try {
    status = (await api.readNamespacedJobStatus({ name: jobName(runId, variationId), namespace })).status;
  } catch (error) {
    if ((error as { code?: unknown }).code === 404) return true; // deleted by hand or by its TTL
    runLogger(runId, variationId).warn({ error: describeKubeError(error) }, "could not read the variation's Job");
    return false;
  }
  const failure = jobFailureReason(status);
  if (failure === null) return isJobFinished(status);
  try {
    await ingestRunNow(runId); // its final status may still be in the run's inbox
    const recorded = variationStatusSchema.safeParse(await getRedis().hget(keys.runVariations(runId), variationId));
    if (recorded.success && isTerminal(recorded.data)) return true; // the agent said how it ended
  } catch (error) {
    runLogger(runId, variationId).warn({ err: error }, "could not read the variation's status from Redis");
    return false; // try again on the next poll rather than report over a status we cannot see
  }
  await reportFailure(runId, variationId, `Kubernetes Job failed: ${failure}`);
  return true;
}

async function reportFailure(runId: string, variationId: string, error: string): Promise<void> {
  try {
    await publishFailure(getRedis(), { runId, variationId, error });
  } catch (publishError) {
    runLogger(runId, variationId).error({ err: publishError }, "could not report the failed Job to Redis");
  }
}
