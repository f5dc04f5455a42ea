/**
 * Which LineSource holds the agents' stdout: it follows from where the orchestrator runs them.
 */
import "server-only";
import { localLogSource } from "./agent-logs";
import type { ServerEnv } from "./env";
import { createKubectlSource } from "./kube/kubectl-source";
import type { LineSource } from "./line-source";

let kubectl: LineSource | undefined;

export function agentSourceFor(env: ServerEnv): LineSource {
  if (env.RUNWATCH_ORCHESTRATOR === "local") return localLogSource;
  kubectl ??= createKubectlSource({ kubectl: env.KUBECTL, namespace: env.KUBE_NAMESPACE, context: env.KUBE_CONTEXT });
  return kubectl as LineSource;
}
