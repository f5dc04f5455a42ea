/**
 * The manifests under deploy/k8s and the agent Job the server creates, checked against the
 * Kubernetes API's own schemas (kubernetes-models: validators generated from the OpenAPI spec
 * Kubernetes publishes) — types, enums and required fields, what `kubectl apply` would refuse.
 * Where kubectl is installed, it renders the kustomization itself (`kubectl kustomize`, offline)
 * and that output is checked; `kubectl apply --dry-run=client` runs too, but only when kubectl
 * reaches a cluster: even a client-side dry run asks the API server for its resource types and
 * schemas (without one it fails with "couldn't get current server API group list").
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { loadAllYaml } from "@kubernetes/client-node";
import { Deployment, StatefulSet } from "kubernetes-models/apps/v1";
import { Job } from "kubernetes-models/batch/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { Role, RoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1";
import { ConfigMap, Secret, Service, ServiceAccount } from "kubernetes-models/v1";
import { describe, expect, it } from "vitest";
import { buildJobSpec } from "@/lib/kube/job-spec";

const DIR = path.resolve(__dirname, "..", "..", "deploy", "k8s");

interface Model {
  validate(): void;
}
type Manifest = { apiVersion?: string; kind?: string; metadata?: { name?: string } };

/** The kinds Runwatch ships, by apiVersion and kind; anything else is an error of its own. */
const MODELS: Record<string, new (data: never) => Model> = {
  "apps/v1/Deployment": Deployment,
  "apps/v1/StatefulSet": StatefulSet,
  "batch/v1/Job": Job,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
  "rbac.authorization.k8s.io/v1/Role": Role,
  "rbac.authorization.k8s.io/v1/RoleBinding": RoleBinding,
  "v1/ConfigMap": ConfigMap,
  "v1/Secret": Secret,
  "v1/Service": Service,
  "v1/ServiceAccount": ServiceAccount,
};

/**
 * A Secret's `data` as the API server reads it: kustomize wraps long base64 values over several
 * lines, and the server's decoder (Go's encoding/base64) skips line breaks, where the schema's
 * "byte" format does not.
 */
function asServerReadsIt(object: Manifest): Manifest {
  const data = (object as { data?: Record<string, string> }).data;
  if (object.kind !== "Secret" || !data) return object;
  return { ...object, data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, v.replace(/[\r\n]/g, "")])) } as Manifest;
}

/** What is wrong with `object` by the API's schema: nothing (null) or the validator's message. */
function schemaErrors(object: Manifest): string | null {
  const Model = MODELS[`${object.apiVersion}/${object.kind}`];
  if (!Model) return `no schema for ${object.apiVersion} ${object.kind}`;
  try {
    new Model(asServerReadsIt(object) as never).validate();
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

const describeObject = (o: Manifest) => `${o.kind}/${o.metadata?.name}`;

/** The kustomization's resources as the files spell them (what kustomize starts from). */
function sourceObjects(): Manifest[] {
  const kustomization = loadAllYaml(fs.readFileSync(path.join(DIR, "kustomization.yaml"), "utf8"))[0] as { resources: string[] };
  return kustomization.resources.flatMap((file) => loadAllYaml(fs.readFileSync(path.join(DIR, file), "utf8")) as Manifest[]);
}

const kubectl = process.env.KUBECTL ?? "kubectl";
const hasKubectl = spawnSync(kubectl, ["version", "--client"], { encoding: "utf8" }).status === 0;
/** A cluster kubectl can reach (its current context), for the server-backed dry run. */
const hasCluster = hasKubectl && spawnSync(kubectl, ["version", "--request-timeout=3s"], { encoding: "utf8" }).status === 0;

describe("deploy/k8s against the Kubernetes API schemas", () => {
  it("accepts every object in the kustomization's files", () => {
    const objects = sourceObjects();
    expect(objects.length).toBeGreaterThanOrEqual(10);
    expect(objects.map((o) => [describeObject(o), schemaErrors(o)])).toEqual(objects.map((o) => [describeObject(o), null]));
  });

  it("refuses an object the API server would refuse (the check can fail)", () => {
    const app = sourceObjects().find((o) => o.kind === "Deployment")! as Manifest & { spec: { replicas: unknown; template: { spec: { containers: Record<string, unknown>[] } } } };
    const broken = structuredClone(app);
    broken.spec.replicas = "three";
    expect(schemaErrors(broken)).toMatch(/replicas must be integer/);
    const unnamed = structuredClone(app);
    delete unnamed.spec.template.spec.containers[0]!.name;
    expect(schemaErrors(unnamed)).toMatch(/containers\/0 must have required property name/);
    expect(schemaErrors({ apiVersion: "apps/v1beta1", kind: "Deployment" })).toMatch(/no schema/);
  });

  it("accepts the agent Job the server creates for a variation (lib/kube/job-spec.ts)", () => {
    const job = buildJobSpec({
      run: { runId: "run-0a1b2c3d4e5f", prompt: "Write a haiku" },
      variationId: "var-1",
      image: "registry.example/runwatch-agent:1",
      namespace: "agents",
      agentEnv: { REDIS_URL: "redis://redis:6379", RUNWATCH_RUN_ID: "run-0a1b2c3d4e5f", RUNWATCH_VARIATION_ID: "var-1" },
      ttlSecondsAfterFinished: 3600,
      activeDeadlineSeconds: 7200,
    });
    expect(schemaErrors(job as Manifest)).toBeNull();
  });

  it.skipIf(!hasKubectl)("kubectl renders the kustomization, and what it renders is valid", () => {
    const rendered = spawnSync(kubectl, ["kustomize", DIR], { encoding: "utf8" });
    expect(rendered.stderr).toBe("");
    expect(rendered.status).toBe(0);
    const objects = loadAllYaml(rendered.stdout) as Manifest[];
    // Every source object, plus the Secret its secretGenerator makes from redis-users.acl.
    const names = objects.map(describeObject);
    for (const source of sourceObjects()) expect(names).toContain(describeObject(source));
    expect(names.some((n) => /^Secret\/runwatch-redis-users-[a-z0-9]+$/.test(n))).toBe(true);
    expect(objects.map((o) => [describeObject(o), schemaErrors(o)])).toEqual(objects.map((o) => [describeObject(o), null]));
  });

  it.skipIf(!hasCluster)("kubectl apply --dry-run=client accepts the kustomization (needs a reachable cluster)", () => {
    const applied = spawnSync(kubectl, ["apply", "--dry-run=client", "--validate=strict", "-k", DIR], { encoding: "utf8" });
    expect(applied.stderr).toBe("");
    expect(applied.status).toBe(0);
    expect(applied.stdout).toMatch(/deployment\.apps\/runwatch (created|configured|unchanged) \(dry run\)/);
  });
});
