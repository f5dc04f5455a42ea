import { describe, expect, it } from "vitest";
import { buildJobSpec, jobName } from "./job-spec";

const RUN = "run-0a1b2c3d4e5f";
const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function spec(variationId = "var-1") {
  return buildJobSpec({
    run: { runId: RUN, prompt: "Write a haiku" },
    variationId,
    image: "registry.example/runwatch-agent:1",
    namespace: "agents",
    agentEnv: { REDIS_URL: "redis://redis:6379", RUNWATCH_RUN_ID: RUN, RUNWATCH_VARIATION_ID: variationId, RUNWATCH_PROMPT: "Write a haiku" },
    ttlSecondsAfterFinished: 3600,
  });
}

describe("jobName", () => {
  it("keeps an id that is already a valid name readable, without a hash", () => {
    expect(jobName(RUN, "var-1")).toBe("runwatch-run-0a1b2c3d4e5f-var-1");
  });

  it("sanitises ids into DNS-1123 labels of at most 63 characters", () => {
    for (const id of ["Var_1", "-edge-", "__", "A".repeat(64), "x--y", "a".repeat(40), "_-_"]) {
      const name = jobName(RUN, id);
      expect(name, id).toMatch(DNS_1123_LABEL);
      expect(name.length, id).toBeLessThanOrEqual(63);
      expect(name.startsWith(`runwatch-${RUN}`), id).toBe(true);
    }
  });

  it("gives ids that sanitise or truncate alike different names", () => {
    const groups = [
      ["var-1", "Var-1", "VAR-1", "var_1", "-var-1", "var-1-", "var--1"],
      ["a".repeat(64), `${"a".repeat(63)}b`, "A".repeat(64)],
      ["_", "__", "-"],
    ];
    for (const ids of groups) {
      const names = ids.map((id) => jobName(RUN, id));
      expect(new Set(names).size, ids.join(" ")).toBe(ids.length);
    }
  });

  it("is stable for the same ids and differs between runs", () => {
    expect(jobName(RUN, "Var_1")).toBe(jobName(RUN, "Var_1"));
    expect(jobName(RUN, "Var_1")).not.toBe(jobName("run-000000000000", "Var_1"));
  });

  it("refuses a run id that is not one we issue", () => {
    expect(() => jobName("Run_X", "var-1")).toThrow(/Invalid run id/);
  });
});

describe("buildJobSpec", () => {
  it("labels the Job and its pods with the app, run and variation", () => {
    const job = spec("var-2");
    const labels = { "app.kubernetes.io/name": "runwatch-agent", "runwatch/run-id": RUN, "runwatch/variation-id": "var-2" };
    expect(job).toMatchObject({ apiVersion: "batch/v1", kind: "Job" });
    expect(job.metadata).toEqual({ name: "runwatch-run-0a1b2c3d4e5f-var-2", namespace: "agents", labels });
    expect(job.spec?.template.metadata?.labels).toEqual(labels);
  });

  it("never retries a pod and cleans up after the TTL", () => {
    const job = spec();
    expect(job.spec?.backoffLimit).toBe(0);
    expect(job.spec?.ttlSecondsAfterFinished).toBe(3600);
    expect(job.spec?.template.spec?.restartPolicy).toBe("Never");
    expect(job.spec?.activeDeadlineSeconds).toBeUndefined();
    const limited = buildJobSpec({ run: { runId: RUN, prompt: "p" }, variationId: "var-1", image: "i", namespace: "n", agentEnv: {}, ttlSecondsAfterFinished: 60, activeDeadlineSeconds: 7200 });
    expect(limited.spec?.activeDeadlineSeconds).toBe(7200);
  });

  it("runs one locked-down agent container with exactly the agent's environment", () => {
    const pod = spec().spec?.template.spec;
    expect(pod?.automountServiceAccountToken).toBe(false);
    expect(pod?.containers).toHaveLength(1);
    const container = pod?.containers[0];
    expect(container?.name).toBe("agent");
    expect(container?.image).toBe("registry.example/runwatch-agent:1");
    expect(container?.env).toEqual([
      { name: "REDIS_URL", value: "redis://redis:6379" },
      { name: "RUNWATCH_RUN_ID", value: RUN },
      { name: "RUNWATCH_VARIATION_ID", value: "var-1" },
      { name: "RUNWATCH_PROMPT", value: "Write a haiku" },
    ]);
    expect(container?.securityContext).toMatchObject({ runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
    expect(container?.resources?.requests).toBeDefined();
    expect(container?.resources?.limits?.memory).toBeDefined();
  });

  it("refuses variation ids that cannot be label values, naming the id", () => {
    for (const bad of ["_var", "var-", "x".repeat(64)]) {
      expect(() => spec(bad), bad).toThrow(/Variation id ".*" cannot be a Kubernetes label value/);
    }
    expect(() => spec("Var_1")).not.toThrow();
  });
});
