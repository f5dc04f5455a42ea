/**
 * The REST API and the orchestrator against a real redis-server and real agent processes
 * (dist/agent/cli.mjs, built by `npm test` before vitest runs).
 */
import { describe, expect, it } from "vitest";
import { GET as getRun } from "@/app/api/v1/runs/[runId]/route";
import { GET as listRuns, POST as createRun } from "@/app/api/v1/runs/route";
import { GET as health } from "@/app/api/health/route";
import { keys } from "@/lib/channels";
import { agentsIdle, startAgentProcess } from "@/lib/orchestrator";
import { eventually, newRun, openStream, setupTestRedis } from "../support/helpers";

const redisClient = setupTestRedis();

const post = (body: string) =>
  createRun(new Request("http://localhost/api/v1/runs", { method: "POST", body, headers: { "Content-Type": "application/json" } }));
const runParams = (runId: string) => ({ params: Promise.resolve({ runId }) });
/** Let a run's agents finish and exit, so none outlives its test or counts against the next. */
async function waitForRunComplete(runId: string) {
  const { reader } = await openStream(runId);
  await reader!.waitForEvents(1, (e) => e.event === "run_complete", 20_000);
  await agentsIdle();
}

describe("POST /api/v1/runs", () => {
  it("starts a demo run whose agents stream to completion", async () => {
    const response = await post(JSON.stringify({ prompt: "Write a haiku about Redis", variations: 3, agent: "demo" }));
    expect(response.status).toBe(202);
    const { run_id, stream_url } = await response.json();
    expect(run_id).toMatch(/^run-[0-9a-z]{12}$/);
    expect(stream_url).toBe(`/api/v1/runs/${run_id}/stream/redis`);

    const { reader } = await openStream(run_id);
    const [complete] = await reader!.waitForEvents(1, (e) => e.event === "run_complete", 20_000);
    await agentsIdle();
    expect(JSON.parse(complete!.data).statuses).toEqual({ "var-1": "completed", "var-2": "completed", "var-3": "completed" });
    const outputs = reader!.events.filter((e) => e.event === "agent_output").map((e) => JSON.parse(e.data));
    for (const variation of ["var-1", "var-2", "var-3"]) {
      const mine = outputs.filter((o) => o.variation_id === variation);
      expect(mine.length, variation).toBeGreaterThan(50);
      // per-variation sequence numbers only go up
      const sequences = mine.map((o) => o.sequence);
      expect(sequences).toEqual([...sequences].sort((x, y) => x - y));
    }
    const metrics = reader!.events.filter((e) => e.event === "agent_metric").map((e) => JSON.parse(e.data));
    expect(metrics.some((m) => m.metrics.duration_ms !== undefined && m.metrics.tokens > 50)).toBe(true);

    const run = await (await getRun(new Request("http://localhost"), runParams(run_id))).json();
    expect(run).toMatchObject({ run_id, prompt: "Write a haiku about Redis", agent: "demo", status: "completed", winner: null });
    expect(run.variations).toEqual([
      { variation_id: "var-1", status: "completed", agent: "demo" },
      { variation_id: "var-2", status: "completed", agent: "demo" },
      { variation_id: "var-3", status: "completed", agent: "demo" },
    ]);
  });

  it("answers a body that fails validation with 400 naming the field", async () => {
    const cases: [string, RegExp][] = [
      ["{not json", /body: not valid JSON/],
      ["", /body: a JSON object is required/],
      [JSON.stringify({ prompt: "x", variations: 0 }), /variations/],
      [JSON.stringify({ prompt: "", variations: 2 }), /prompt: must not be empty/],
      [JSON.stringify({ prompt: "x", agent: "gpt-9" }), /agent/],
      [JSON.stringify([1, 2]), /body|expected object/],
      [JSON.stringify({ prompt: "a\u0000b" }), /prompt: must not contain control characters/],
    ];
    for (const [body, message] of cases) {
      const response = await post(body);
      expect(response.status, body).toBe(400);
      expect((await response.json()).error.message, body).toMatch(message);
    }
  });

  it("answers more variations than MAX_VARIATIONS with 422 naming the limit (test/integration/limits.test.ts has the rest)", async () => {
    const response = await post(JSON.stringify({ prompt: "x", variations: 7 }));
    expect(response.status).toBe(422);
    expect((await response.json()).error.message).toMatch(/variations: .*limit of 6/);
  });

  it("refuses an oversized body with 413", async () => {
    const response = await post(JSON.stringify({ prompt: "x".repeat(300 * 1024) }));
    expect(response.status).toBe(413);
    expect((await response.json()).error.message).toMatch(/body: larger than/);
  });

  it("with sign-in off, refuses a run started from another site's page (403), and starts nothing", async () => {
    const prompt = `from elsewhere ${Date.now()}`;
    const response = await createRun(
      new Request("http://localhost/api/v1/runs", {
        method: "POST",
        // What fetch(..., {mode: "no-cors"}) from a page elsewhere sends: a plain-text body, the page's Origin.
        body: JSON.stringify({ prompt, variations: 1 }),
        headers: { "Content-Type": "text/plain", Origin: "https://evil.example", Host: "localhost" },
      }),
    );
    expect(response.status).toBe(403);
    expect((await response.json()).error.message).toMatch(/Cross-site/);
    const { runs } = (await (await listRuns(new Request("http://localhost/api/v1/runs"))).json()) as { runs: { prompt: string }[] };
    expect(runs.some((run) => run.prompt === prompt)).toBe(false);
  });
});

describe("agent limit", () => {
  it("refuses a run that would exceed MAX_RUNNING_AGENTS with 429 and Retry-After", async () => {
    const busy = await newRun(6);
    // Six agents that stay up for two seconds; with MAX_RUNNING_AGENTS=8 a 3-variation run must wait.
    const exits = busy.variationIds.map((variationId) =>
      startAgentProcess({ runId: busy.runId, variationId, command: process.execPath, args: ["-e", "setTimeout(() => {}, 2000)"], env: {} }),
    );
    const refused = await post(JSON.stringify({ prompt: "one too many", variations: 3 }));
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("10");
    expect((await refused.json()).error.message).toMatch(/MAX_RUNNING_AGENTS/);
    await Promise.all(exits);
    const accepted = await post(JSON.stringify({ prompt: "now there is room", variations: 3 }));
    expect(accepted.status).toBe(202);
    await waitForRunComplete((await accepted.json()).run_id);
  });

  it("holds the limit under concurrent requests", async () => {
    await agentsIdle();
    const answers = await Promise.all(
      Array.from({ length: 4 }, () => post(JSON.stringify({ prompt: "all at once", variations: 3 }))),
    );
    const statuses = answers.map((r) => r.status).sort();
    // MAX_RUNNING_AGENTS=8: two runs of 3 fit, the others must wait
    expect(statuses).toEqual([202, 202, 429, 429]);
    for (const answer of answers.filter((r) => r.status === 202)) await waitForRunComplete((await answer.json()).run_id);
  });
});

describe("GET /api/v1/runs", () => {
  it("lists runs newest first", async () => {
    const older = await newRun(1);
    await new Promise((r) => setTimeout(r, 5));
    const newer = await newRun(2);
    const { runs } = await (await listRuns(new Request("http://localhost/api/v1/runs"))).json();
    const ids = runs.map((r: { run_id: string }) => r.run_id);
    expect(ids.indexOf(newer.runId)).toBeLessThan(ids.indexOf(older.runId));
    expect(runs.find((r: { run_id: string }) => r.run_id === newer.runId)).toMatchObject({
      status: "running",
      variations: [
        { variation_id: "var-1", status: null },
        { variation_id: "var-2", status: null },
      ],
    });
  });

  it("answers 400 for a bad id and 404 for an unknown run", async () => {
    expect((await getRun(new Request("http://localhost"), runParams("run-*"))).status).toBe(400);
    expect((await getRun(new Request("http://localhost"), runParams("run-zzzzzzzzzzzz"))).status).toBe(404);
  });
});

describe("orchestrator", () => {
  it("reports an agent that crashes as failed, with its exit code and last stderr", async () => {
    const run = await newRun(1);
    const { reader } = await openStream(run.runId);
    const exit = await startAgentProcess({
      runId: run.runId,
      variationId: "var-1",
      command: process.execPath,
      args: ["-e", "process.stderr.write('segfault in model loader\\n'); process.exit(3)"],
      env: {},
    });
    expect(exit).toMatchObject({ code: 3, reportedFailure: true });
    const [error] = await reader!.waitForEvents(1, (e) => e.event === "agent_error");
    const data = JSON.parse(error!.data);
    expect(data).toMatchObject({ variation_id: "var-1", exit_code: 3, sequence: 1 });
    expect(data.error).toMatch(/exited with code 3/);
    expect(data.error).toMatch(/segfault in model loader/);
    await reader!.waitForEvents(1, (e) => e.event === "run_complete");
    expect(await redisClient().hget(keys.runVariations(run.runId), "var-1")).toBe("failed");
  });

  it("reports a command that cannot be started", async () => {
    const run = await newRun(1);
    const exit = await startAgentProcess({ runId: run.runId, variationId: "var-1", command: "/nonexistent/agent", args: [], env: {} });
    expect(exit.reportedFailure).toBe(true);
    await eventually(() => redisClient().hget(keys.runVariations(run.runId), "var-1"), (s) => s === "failed");
  });
});

describe("GET /api/health", () => {
  it("answers 200 when Redis answers", async () => {
    const response = await health();
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true, redis: "up", circuit: "closed" });
  });
});
