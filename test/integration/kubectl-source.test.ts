/**
 * The kubectl LineSource against a stand-in kubectl (test/support/fake-kubectl/kubectl) first
 * on PATH: it checks the arguments we pass and plays a scenario per invocation (pod not
 * started, stream cut mid-line, API server closing the stream, ...). No cluster, no Redis.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { jobName } from "@/lib/kube/job-spec";
import { createKubectlSource, type KubectlSourceOptions } from "@/lib/kube/kubectl-source";

const RUN = "run-0a1b2c3d4e5f";
const FAKE_DIR = path.resolve(__dirname, "../support/fake-kubectl");
const WAITING = 'error: container "agent" in pod "runwatch-x-abcde" is waiting to start: ContainerCreating';

interface Step { lines?: string[]; delayMs?: number; tail?: string; stdout?: string; stderr?: string; exit?: number; holdMs?: number }
interface Expect { namespace?: string; context?: string | null; job?: string; runId?: string }

let originalPath: string | undefined;
let dirs: string[] = [];
beforeAll(() => {
  originalPath = process.env.PATH;
  process.env.PATH = `${FAKE_DIR}${path.delimiter}${originalPath ?? ""}`;
});
afterAll(() => {
  process.env.PATH = originalPath;
});
afterEach(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  dirs = [];
});

/** Writes the scenario and points the stand-in at it; returns readers of what it recorded. */
function scenario(steps: Step[], expect: Expect = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "runwatch-kubectl-"));
  dirs.push(dir);
  const log = path.join(dir, "args.jsonl");
  fs.writeFileSync(path.join(dir, "scenario.json"), JSON.stringify({ expect, steps }));
  process.env.FAKE_KUBECTL_ARGS_LOG = log;
  process.env.FAKE_KUBECTL_SCENARIO = path.join(dir, "scenario.json");
  const read = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n").filter(Boolean) : []);
  return {
    invocations: () => read(log).map((line) => JSON.parse(line) as string[]),
    signals: () => read(`${log}.signals`),
    startTimes: () => read(`${log}.times`).map(Number),
  };
}

const source = (options: Partial<KubectlSourceOptions> = {}) =>
  createKubectlSource({ kubectl: "kubectl", namespace: "agents", podWaitTimeoutMs: 2_000, retryDelayMs: 20, ...options });

/** Follows one variation, recording every handler call with its time. */
function follow(options: Partial<KubectlSourceOptions> = {}, variationId = "var-1") {
  const lines: { text: string; at: number }[] = [];
  const ends: (string | undefined)[] = [];
  let resolveEnd: (error: string | undefined) => void = () => {};
  const ended = new Promise<string | undefined>((resolve) => (resolveEnd = resolve));
  const stop = source(options).follow(RUN, variationId, {
    line: (text) => lines.push({ text, at: Date.now() }),
    end: (error) => {
      ends.push(error);
      resolveEnd(error);
    },
  });
  return { stop, ended, ends, texts: () => lines.map((l) => l.text), lines };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
async function until(check: () => boolean, what: string, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

const message = (sequence: number, content: string) =>
  JSON.stringify({ timestamp: "2026-11-23T10:30:00.000Z", run_id: RUN, variation_id: "var-1", sequence, type: "output", content });
const LINES = Array.from({ length: 6 }, (_, i) => message(i + 1, `chunk ${i + 1}`));

describe("kubectl logs -f", () => {
  it("passes the job name, namespace, context and -f that kubectl expects", async () => {
    const job = jobName(RUN, "Var_1");
    const fake = scenario([{ lines: [LINES[0]!] }], { namespace: "agents", context: "staging", job });
    const f = follow({ context: "staging" }, "Var_1");
    expect(await f.ended).toBeUndefined();
    expect(f.texts()).toEqual([LINES[0]]);
    expect(fake.invocations()[0]).toEqual(["logs", "-f", `job/${job}`, "-n", "agents", "--context", "staging", "--pod-running-timeout=2s"]);
  });

  it("leaves --context out when none is configured, and fails loudly on arguments kubectl would reject", async () => {
    const fake = scenario([{ lines: ["x"] }], { namespace: "agents", context: null });
    expect(await follow().ended).toBeUndefined();
    expect(fake.invocations()[0]).not.toContain("--context");

    // The stand-in exits 2 on a wrong namespace: retried 3 times, then reported with its stderr.
    const wrong = scenario([{ lines: ["x"] }], { namespace: "agents" });
    const f = follow({ namespace: "other" });
    expect(await f.ended).toMatch(/^kubectl logs exited with code 2: fake kubectl: namespace other, expected agents/);
    expect(f.texts()).toEqual([]);
    expect(wrong.invocations()).toHaveLength(4);
  });

  it("delivers recorded lines in order as they are printed, not all at the end", async () => {
    scenario([{ lines: LINES, delayMs: 40 }]);
    const f = follow();
    expect(await f.ended).toBeUndefined();
    expect(f.texts()).toEqual(LINES);
    const first = f.lines[0]!.at;
    const last = f.lines.at(-1)!.at;
    expect(last - first).toBeGreaterThanOrEqual(150);
  });

  it("waits for a pod that is not started yet, then streams it", async () => {
    // More "not started" answers than the 3 retries other failures get: waiting is different.
    const notFound = { stderr: 'Error from server (NotFound): jobs.batch "x" not found', exit: 1 };
    const waiting = { stderr: WAITING, exit: 1 };
    const fake = scenario([notFound, waiting, waiting, waiting, { lines: LINES.slice(0, 2) }]);
    const f = follow();
    expect(await f.ended).toBeUndefined();
    expect(f.texts()).toEqual(LINES.slice(0, 2));
    expect(fake.invocations()).toHaveLength(6); // four waits, the stream, the check that it is over
  });

  it("gives up on a pod that does not start within podWaitTimeoutMs, with kubectl's reason", async () => {
    const fake = scenario([{ stderr: WAITING, exit: 1 }]);
    const f = follow({ podWaitTimeoutMs: 400 });
    expect(await f.ended).toMatch(/^pod for var-1 did not start within 400 ms: error: .*is waiting to start: ContainerCreating$/);
    expect(fake.invocations().length).toBeGreaterThanOrEqual(2);
  });

  it("does not wait for a Job of a finished run that is gone (deleted after its TTL)", async () => {
    const fake = scenario([{ stderr: 'Error from server (NotFound): jobs.batch "x" not found', exit: 1 }]);
    const ends: (string | undefined)[] = [];
    source({ podWaitTimeoutMs: 60_000 }).follow(RUN, "var-1", { line: () => undefined, end: (e) => ends.push(e) }, { toEnd: true });
    await until(() => ends.length > 0, "an end");
    expect(ends[0]).toMatch(/not available \(the run is over\).*NotFound/);
    expect(fake.invocations()).toHaveLength(1);
  });

  it("restarts kubectl after it fails mid-stream without losing or repeating a line", async () => {
    const fake = scenario([
      { lines: LINES.slice(0, 3), tail: LINES[3]!.slice(0, 20), stderr: "error: unexpected EOF", exit: 1 },
      { lines: LINES.slice(0, 5), stderr: "error: http2: stream closed", exit: 1 },
      { lines: LINES },
    ]);
    const f = follow();
    expect(await f.ended).toBeUndefined();
    expect(f.texts()).toEqual(LINES); // the cut-off line arrives once, whole
    expect(fake.invocations()).toHaveLength(4);
  });

  it("runs kubectl once more after a clean exit and ends when that brings nothing new", async () => {
    // The API server closed the stream while the pod still ran: the next run has more lines.
    const fake = scenario([{ lines: LINES.slice(0, 2) }, { lines: LINES.slice(0, 4) }, { lines: LINES.slice(0, 4), tail: "no newline" }]);
    const f = follow();
    expect(await f.ended).toBeUndefined();
    expect(f.texts()).toEqual([...LINES.slice(0, 4), "no newline"]);
    expect(fake.invocations()).toHaveLength(3);
    expect(f.ends).toHaveLength(1);
  });

  it("retries other failures 3 times with growing delays, then reports kubectl's last stderr line", async () => {
    const fake = scenario([{ stderr: "error: You must be logged in to the server (Unauthorized)", exit: 1 }]);
    const f = follow({ retryDelayMs: 100 });
    expect(await f.ended).toBe("kubectl logs exited with code 1: error: You must be logged in to the server (Unauthorized)");
    expect(fake.invocations()).toHaveLength(4);
    // Delays of 100, 200 and 400 ms; kubectl's start-up time is in every gap and cancels out.
    const [, t1, t2, t3] = fake.startTimes();
    expect(t3! - t2! - (t2! - t1!)).toBeGreaterThanOrEqual(100);
  });

  it("reports a missing kubectl right away, naming KUBECTL", async () => {
    const f = follow({ kubectl: "/nonexistent/kubectl" });
    expect(await f.ended).toBe("kubectl was not found (KUBECTL=/nonexistent/kubectl): install it or set KUBECTL to its path");
    expect(f.ends).toHaveLength(1);
  });

  it("passes lines that are not JSON through unchanged", async () => {
    const lines = [LINES[0]!, "Cloning into 'repo'...", "{not json", "", "  indented \t text"];
    scenario([{ lines }]);
    const f = follow();
    expect(await f.ended).toBeUndefined();
    expect(f.texts()).toEqual(lines);
  });

  it("stop() terminates kubectl and no handler is called afterwards", async () => {
    const fake = scenario([{ lines: LINES, delayMs: 100, holdMs: 10_000 }]);
    const f = follow();
    await until(() => f.lines.length >= 1, "the first line");
    f.stop();
    await until(() => fake.signals().length === 1, "kubectl to get SIGTERM");
    const seen = f.lines.length;
    await sleep(300);
    expect(f.lines.length).toBe(seen);
    expect(seen).toBeLessThan(LINES.length);
    expect(f.ends).toEqual([]);
    expect(fake.invocations()).toHaveLength(1);
  });

  it("stop() during a retry delay cancels the retry and leaves no timer behind", async () => {
    const fake = scenario([{ stderr: WAITING, exit: 1 }]);
    const f = follow({ retryDelayMs: 700 });
    await until(() => fake.invocations().length === 1, "the first kubectl");
    await sleep(300); // kubectl has exited; the retry timer is pending
    const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === "Timeout").length;
    const before = timers();
    f.stop();
    expect(timers()).toBe(before - 1);
    await sleep(700);
    expect(fake.invocations()).toHaveLength(1);
    expect(f.ends).toEqual([]);
  });
});

describe("discoverVariations", () => {
  const job = (variation?: string) => ({ metadata: { labels: variation ? { "runwatch/run-id": RUN, "runwatch/variation-id": variation } : {} } });

  it("lists the run's variations from its Jobs' labels, sorted", async () => {
    const jobs = { items: [job("var-10"), job("var-2"), job(), job("var-1"), job("var-2")] };
    const fake = scenario([{ stdout: JSON.stringify(jobs) }], { namespace: "agents", context: "staging", runId: RUN });
    expect(await source({ context: "staging" }).discoverVariations(RUN)).toEqual(["var-1", "var-2", "var-10"]);
    expect(fake.invocations()).toEqual([["get", "jobs", "-n", "agents", "--context", "staging", "-l", `runwatch/run-id=${RUN}`, "-o", "json"]]);
  });

  it("answers null for no Jobs, a failing or missing kubectl and unreadable output", async () => {
    scenario([{ stdout: JSON.stringify({ items: [] }) }]);
    expect(await source().discoverVariations(RUN)).toBeNull();
    scenario([{ stderr: "error: the server doesn't have a resource type \"jobs\"", exit: 1 }]);
    expect(await source().discoverVariations(RUN)).toBeNull();
    scenario([{ stdout: "{not json" }]);
    expect(await source().discoverVariations(RUN)).toBeNull();
    expect(await source({ kubectl: "/nonexistent/kubectl" }).discoverVariations(RUN)).toBeNull();
  });
});
