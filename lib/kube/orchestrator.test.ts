import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { V1JobStatus } from "@kubernetes/client-node";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { describeKubeError, isJobFinished, jobFailureReason, loadBatchApi } from "./orchestrator";

const condition = (type: string, status = "True", reason?: string, message?: string) => ({ type, status, reason, message });

describe("jobFailureReason", () => {
  it("is null while the Job runs or once it succeeded", () => {
    const cases: (V1JobStatus | undefined)[] = [
      undefined,
      {},
      { active: 1, ready: 1 },
      { succeeded: 1, conditions: [condition("SuccessCriteriaMet"), condition("Complete")] },
      { active: 1, conditions: [condition("Failed", "False", "BackoffLimitExceeded")] },
    ];
    for (const status of cases) expect(jobFailureReason(status), JSON.stringify(status)).toBeNull();
  });

  it("gives the Failed condition's reason and message", () => {
    const status: V1JobStatus = {
      failed: 1,
      conditions: [condition("Failed", "True", "BackoffLimitExceeded", "Job has reached the specified backoff limit")],
    };
    expect(jobFailureReason(status)).toBe("BackoffLimitExceeded: Job has reached the specified backoff limit");
    expect(jobFailureReason({ conditions: [condition("Failed", "True", "DeadlineExceeded")] })).toBe("DeadlineExceeded");
    expect(jobFailureReason({ conditions: [condition("Failed")] })).toBe("the Job failed");
  });

  it("sees a failure as soon as the controller marks it (FailureTarget) or counts a failed pod", () => {
    expect(jobFailureReason({ conditions: [condition("FailureTarget", "True", "BackoffLimitExceeded")] })).toBe("BackoffLimitExceeded");
    expect(jobFailureReason({ failed: 1 })).toBe("the agent's pod failed");
  });
});

describe("isJobFinished", () => {
  it("is true for succeeded and failed Jobs only", () => {
    expect(isJobFinished({ conditions: [condition("Complete")] })).toBe(true);
    expect(isJobFinished({ conditions: [condition("Failed", "True", "DeadlineExceeded")] })).toBe(true);
    expect(isJobFinished({ active: 1 })).toBe(false);
    expect(isJobFinished(undefined)).toBe(false);
  });
});

describe("describeKubeError", () => {
  it("keeps the API server's message and status code, not the client's dump of headers", () => {
    const body = JSON.stringify({ kind: "Status", message: 'jobs.batch is forbidden: User "x" cannot create resource "jobs"', code: 403 });
    expect(describeKubeError({ code: 403, body, headers: { "audit-id": "1" } })).toBe(
      'HTTP 403: jobs.batch is forbidden: User "x" cannot create resource "jobs"',
    );
    expect(describeKubeError({ code: 401, body: undefined })).toBe("HTTP 401");
    expect(describeKubeError(new Error("connect ECONNREFUSED 127.0.0.1:6443"))).toBe("connect ECONNREFUSED 127.0.0.1:6443");
  });
});

describe("loadBatchApi", () => {
  // Real kubeconfig files, no cluster: loading a config talks to nobody.
  const saved = { KUBECONFIG: process.env.KUBECONFIG, HOME: process.env.HOME };
  let dir = "";
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "runwatch-kubeconfig-"));
  });
  afterEach(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const kubeconfig = (contexts: string[]) => {
    const file = path.join(dir, "config");
    const yaml = [
      "apiVersion: v1",
      "kind: Config",
      "clusters: [{name: c, cluster: {server: 'https://k8s.invalid:6443'}}]",
      "users: [{name: u, user: {token: t}}]",
      `contexts: [${contexts.map((name) => `{name: ${name}, context: {cluster: c, user: u}}`).join(", ")}]`,
      `current-context: ${contexts[0] ?? "''"}`,
    ].join("\n");
    fs.writeFileSync(file, yaml);
    process.env.KUBECONFIG = file;
  };

  it("uses the kubeconfig's current context, or KUBE_CONTEXT when it exists", async () => {
    kubeconfig(["dev", "staging"]);
    const api = await loadBatchApi(undefined);
    expect(typeof api.createNamespacedJob).toBe("function");
    await expect(loadBatchApi("staging")).resolves.toBeDefined();
  });

  it("answers a missing context, no current context or no config at all with a clear ApiError", async () => {
    kubeconfig(["dev"]);
    await expect(loadBatchApi("prod")).rejects.toMatchObject({
      name: "ApiError",
      code: "internal",
      message: 'Could not load the Kubernetes configuration: KUBE_CONTEXT "prod" is not in the kubeconfig (its contexts: dev)',
    });
    kubeconfig([]);
    await expect(loadBatchApi(undefined)).rejects.toThrow(/Could not load the Kubernetes configuration: no cluster is configured/);
  });

  // Inside a pod the client would load the pod's service account instead.
  it.skipIf(fs.existsSync("/var/run/secrets/kubernetes.io/serviceaccount/token"))(
    "refuses the client's silent localhost:8080 fallback when there is no config at all",
    async () => {
      delete process.env.KUBECONFIG;
      process.env.HOME = dir; // no .kube/config here
      await expect(loadBatchApi(undefined)).rejects.toThrow(/no cluster is configured: set KUBECONFIG/);
    },
  );
});
