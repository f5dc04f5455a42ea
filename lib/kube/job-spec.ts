/**
 * The Kubernetes Job that runs one variation's agent, and its name. Pure: no API client here
 * (only its types), so the shape of what we send to the cluster is unit-tested.
 *
 * One Job per variation, never retried: the agent prints its messages on stdout as it goes,
 * and a second pod would print (and publish) them all again.
 */
import { createHash } from "node:crypto";
import type { V1EnvVar, V1Job } from "@kubernetes/client-node";
import { isRunId } from "../ids";

export const AGENT_APP_LABEL = "runwatch-agent";
export const LABELS = {
  app: "app.kubernetes.io/name",
  runId: "runwatch/run-id",
  variationId: "runwatch/variation-id",
} as const;

const NAME_PREFIX = "runwatch";
/** DNS-1123 label: Job names end up in the pods' `job-name` label, so 63, not 253. */
const MAX_NAME_LENGTH = 63;
const HASH_LENGTH = 8;
/** Separates the hash; sanitised ids never contain "--", so a hashed name cannot equal a plain one. */
const HASH_SEPARATOR = "--";
const LABEL_VALUE_PATTERN = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const MAX_LABEL_VALUE_LENGTH = 63;
/** What node:20-slim's `node` user has; numeric so the kubelet can check runAsNonRoot. */
const AGENT_UID = 1000;

function shortHash(runId: string, variationId: string): string {
  return createHash("sha256").update(`${runId}/${variationId}`).digest("hex").slice(0, HASH_LENGTH);
}

function sanitize(variationId: string): string {
  return variationId
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, "-")
    .replace(/-{2,}/g, "-")
    .replace(/^-+|-+$/g, "");
}

/**
 * `runwatch-<runId>-<variation>`, a valid DNS-1123 label. When the variation id had to be
 * changed to fit (case, `_`, edge or doubled dashes, length), a hash of the original ids is
 * appended, so `Var_1` and `var-1` of one run still get two different Jobs.
 */
export function jobName(runId: string, variationId: string): string {
  if (!isRunId(runId)) throw new Error(`Invalid run id "${runId.slice(0, 80)}" for a Kubernetes Job name`);
  const base = `${NAME_PREFIX}-${runId}`;
  const clean = sanitize(variationId);
  const plain = `${base}-${clean}`;
  if (clean === variationId && clean.length > 0 && plain.length <= MAX_NAME_LENGTH) return plain;

  const suffix = `${HASH_SEPARATOR}${shortHash(runId, variationId)}`;
  const room = MAX_NAME_LENGTH - base.length - 1 - suffix.length;
  const kept = clean.slice(0, room).replace(/-+$/, "");
  return kept ? `${base}-${kept}${suffix}` : `${base}${suffix}`;
}

/** Throws a clear Error when `value` cannot be a Kubernetes label value. */
export function requireLabelValue(what: string, value: string): string {
  if (value.length > MAX_LABEL_VALUE_LENGTH || !LABEL_VALUE_PATTERN.test(value)) {
    throw new Error(
      `${what} "${value.slice(0, 80)}" cannot be a Kubernetes label value: it must be at most 63 characters ` +
        "and start and end with a letter or digit (run on Kubernetes with ids like var-1)",
    );
  }
  return value;
}

export interface JobSpecInput {
  run: { runId: string; prompt: string };
  variationId: string;
  image: string;
  namespace: string;
  /** The agent's whole environment (REDIS_URL, RUNWATCH_*); nothing of the server's leaks in. */
  agentEnv: Record<string, string>;
  /** Finished Jobs (and their pods and logs) are deleted this long after they end. */
  ttlSecondsAfterFinished: number;
  /** Kubernetes fails a Job still running after this long (unset: no limit). */
  activeDeadlineSeconds?: number;
}

export function buildJobSpec(input: JobSpecInput): V1Job {
  const { run, variationId, image, namespace, agentEnv, ttlSecondsAfterFinished, activeDeadlineSeconds } = input;
  const labels = {
    [LABELS.app]: AGENT_APP_LABEL,
    [LABELS.runId]: requireLabelValue("Run id", run.runId),
    [LABELS.variationId]: requireLabelValue("Variation id", variationId),
  };
  const env: V1EnvVar[] = Object.entries(agentEnv).map(([name, value]) => ({ name, value }));
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: jobName(run.runId, variationId), namespace, labels },
    spec: {
      // A retried pod would print and publish its messages a second time.
      backoffLimit: 0,
      ttlSecondsAfterFinished,
      ...(activeDeadlineSeconds !== undefined ? { activeDeadlineSeconds } : {}),
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: "Never",
          // The agent talks to Redis, not to the Kubernetes API.
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: AGENT_UID,
            runAsGroup: AGENT_UID,
            seccompProfile: { type: "RuntimeDefault" },
          },
          containers: [
            {
              name: "agent",
              image,
              env,
              resources: {
                requests: { cpu: "100m", memory: "128Mi" },
                limits: { cpu: "1", memory: "512Mi" },
              },
              securityContext: {
                runAsNonRoot: true,
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ["ALL"] },
              },
              // The root filesystem is read-only; Node and agents may still want a scratch dir.
              volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
            },
          ],
          volumes: [{ name: "tmp", emptyDir: { sizeLimit: "64Mi" } }],
        },
      },
    },
  };
}
