/**
 * The Kubernetes manifests under deploy/k8s, parsed (no cluster here): what would make them
 * fail or misbehave once applied. Every file is in the kustomization; the app runs several
 * replicas with probes on /api/health, as the ServiceAccount rbac.yaml binds, with only
 * variables lib/env.ts reads; Redis keeps an AOF on a volume; every selector selects its pods,
 * every Service port reaches a container port, every URL in the config names a Service.
 */
import fs from "node:fs";
import path from "node:path";
import { loadAllYaml, type V1Container, type V1Deployment, type V1PodTemplateSpec, type V1StatefulSet } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { SERVER_NODE_FLAGS } from "../../scripts/lib/server-node.mjs";

const ROOT = path.resolve(__dirname, "..", "..");
const DIR = path.join(ROOT, "deploy", "k8s");

type Manifest = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> }; [key: string]: unknown };
type Service = Manifest & { spec: { clusterIP?: string; selector: Record<string, string>; ports: { port: number; targetPort: number | string }[] } };
type Subject = { kind: string; name: string };

const yamlFiles = fs.readdirSync(DIR).filter((f) => /\.ya?ml$/.test(f)).sort();
const kustomization = loadAllYaml(fs.readFileSync(path.join(DIR, "kustomization.yaml"), "utf8"))[0] as { resources: string[] };
const objects: Manifest[] = kustomization.resources.flatMap((file) => loadAllYaml(fs.readFileSync(path.join(DIR, file), "utf8")) as Manifest[]);

function one<T extends Manifest>(kind: string, name: string): T {
  const found = objects.filter((o) => o.kind === kind && o.metadata.name === name);
  expect(found, `${kind}/${name}`).toHaveLength(1);
  return found[0] as T;
}
const ofKind = <T extends Manifest>(kind: string) => objects.filter((o) => o.kind === kind) as T[];
const selects = (selector: Record<string, string>, labels: Record<string, string> = {}) => Object.entries(selector).every(([k, v]) => labels[k] === v);

/** Variable names lib/env.ts reads, as .env.example lists them (`# NAME=...` or `NAME=...`). */
const knownEnv = new Set([...fs.readFileSync(path.join(ROOT, ".env.example"), "utf8").matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]!));

const app = one<Manifest & V1Deployment>("Deployment", "runwatch");
const redis = one<Manifest & V1StatefulSet>("StatefulSet", "runwatch-redis");
const appSpec = app.spec!;
const redisSpec = redis.spec!;
const appContainer = appSpec.template.spec!.containers[0]!;
const redisContainer = redisSpec.template.spec!.containers[0]!;
const config = one<Manifest & { data: Record<string, string> }>("ConfigMap", "runwatch-config").data;
const secret = one<Manifest & { stringData: Record<string, string> }>("Secret", "runwatch-secrets").stringData;

/** Where a `redis://` or `http://` URL of the config points: the Service and its port. */
function serviceOf(url: string): { service: Service; port: number } {
  const { hostname, port, protocol } = new URL(url);
  return { service: one<Service>("Service", hostname), port: Number(port || (protocol === "http:" ? 80 : 6379)) };
}

describe("deploy/k8s", () => {
  it("lists every manifest in kustomization.yaml, and each object once", () => {
    expect([...kustomization.resources].sort()).toEqual(yamlFiles.filter((f) => f !== "kustomization.yaml"));
    const ids = objects.map((o) => `${o.kind}/${o.metadata.name}`);
    expect(new Set(ids).size).toBe(ids.length);
    for (const o of objects) expect(o.apiVersion && o.kind && o.metadata.name, JSON.stringify(o).slice(0, 80)).toBeTruthy();
  });

  it("starts the image's server with the Node flags npm start uses", () => {
    const dockerfile = fs.readFileSync(path.join(ROOT, "deploy", "app.Dockerfile"), "utf8");
    const cmd = /^CMD (\[.*\])$/m.exec(dockerfile);
    expect(cmd, "deploy/app.Dockerfile has an exec-form CMD").not.toBeNull();
    expect(JSON.parse(cmd![1]!)).toEqual(["node", ...SERVER_NODE_FLAGS, "server.mjs", "-H", "0.0.0.0"]);
  });

  it("runs the app with several replicas, ready and live on /api/health", () => {
    expect(appSpec.replicas).toBeGreaterThanOrEqual(2);
    const portNames = (appContainer.ports ?? []).map((p) => p.name);
    for (const probe of [appContainer.readinessProbe, appContainer.livenessProbe]) {
      expect(probe?.httpGet?.path).toBe("/api/health");
      expect(portNames).toContain(probe?.httpGet?.port);
    }
    // A rollout never takes a ready pod away before its replacement is ready.
    expect(appSpec.strategy?.rollingUpdate?.maxUnavailable).toBe(0);
  });

  it("runs the app as the ServiceAccount rbac.yaml binds to the Role that creates agent Jobs", () => {
    const account = appSpec.template.spec!.serviceAccountName;
    one("ServiceAccount", account!);
    const binding = one<Manifest & { roleRef: { kind: string; name: string }; subjects: Subject[] }>("RoleBinding", "runwatch-server");
    expect(binding.subjects).toContainEqual(expect.objectContaining({ kind: "ServiceAccount", name: account }));
    const role = one<Manifest & { rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[] }>(binding.roleRef.kind, binding.roleRef.name);
    expect(role.rules.some((r) => r.apiGroups.includes("batch") && r.resources.includes("jobs") && r.verbs.includes("create"))).toBe(true);
    expect(role.rules.some((r) => r.resources.includes("pods/log") && r.verbs.includes("get"))).toBe(true);
  });

  it("sets only variables lib/env.ts reads, from a ConfigMap and a Secret that exist", () => {
    const fromRefs = (appContainer.envFrom ?? []).flatMap((ref) =>
      ref.configMapRef ? Object.keys(one<Manifest & { data: object }>("ConfigMap", ref.configMapRef.name!).data) : ref.secretRef ? Object.keys(one<Manifest & { stringData: object }>("Secret", ref.secretRef.name!).stringData) : [],
    );
    const names = [...(appContainer.env ?? []).map((e) => e.name), ...fromRefs];
    expect(names).toContain("REDIS_URL");
    expect(names.filter((n) => !knownEnv.has(n))).toEqual([]);
    expect(new Set(names).size).toBe(names.length); // nothing set twice, one silently winning
    // lib/env.ts refuses to start without an agent image when agents run on Kubernetes.
    if (config.RUNWATCH_ORCHESTRATOR === "kubernetes") expect(config.KUBE_AGENT_IMAGE).toBeTruthy();
    expect(appContainer.env?.find((e) => e.name === "KUBE_NAMESPACE")?.valueFrom?.fieldRef?.fieldPath).toBe("metadata.namespace");
  });

  it("points REDIS_URL, KUBE_AGENT_REDIS_URL and RUNWATCH_AGENT_API_URL at Services that exist", () => {
    for (const [url, pods] of [[secret.REDIS_URL!, redisSpec.template], [secret.KUBE_AGENT_REDIS_URL!, redisSpec.template], [config.RUNWATCH_AGENT_API_URL!, appSpec.template]] as const) {
      const { service, port } = serviceOf(url);
      expect(selects(service.spec.selector, pods.metadata?.labels), url).toBe(true);
      expect(service.spec.ports.map((p) => p.port), url).toContain(port);
    }
  });

  it("keeps Redis on a volume with AOF, fsync every second", () => {
    const args = (redisContainer.args ?? []).join(" ");
    expect(args).toContain("--appendonly yes");
    expect(args).toContain("--appendfsync everysec");
    const dir = /--dir (\S+)/.exec(args)?.[1];
    const claim = redisSpec.volumeClaimTemplates?.[0]?.metadata?.name;
    expect(claim).toBeTruthy();
    expect(redisContainer.volumeMounts).toContainEqual(expect.objectContaining({ name: claim, mountPath: dir }));
    expect(redisSpec.replicas).toBe(1); // one server: more replicas would be separate, empty Redises
    expect(one<Service>("Service", redisSpec.serviceName!).spec.clusterIP).toBe("None");
  });

  it("matches every selector to its pods and every Service port to a container port", () => {
    const workloads: V1PodTemplateSpec[] = [appSpec.template, redisSpec.template];
    for (const w of [appSpec, redisSpec]) expect(selects(w.selector.matchLabels!, w.template.metadata?.labels)).toBe(true);
    for (const pdb of ofKind<Manifest & { spec: { selector: { matchLabels: Record<string, string> } } }>("PodDisruptionBudget")) {
      expect(selects(pdb.spec.selector.matchLabels, appSpec.template.metadata?.labels)).toBe(true);
    }
    for (const service of ofKind<Service>("Service")) {
      const matched = workloads.filter((t) => selects(service.spec.selector, t.metadata?.labels));
      expect(matched, `Service ${service.metadata.name} selects exactly one workload`).toHaveLength(1);
      const ports = (matched[0]!.spec!.containers as V1Container[]).flatMap((c) => c.ports ?? []);
      for (const { targetPort } of service.spec.ports) {
        expect(ports.some((p) => p.name === targetPort || p.containerPort === targetPort), `${service.metadata.name} → ${targetPort}`).toBe(true);
      }
    }
  });
});
