/**
 * Presets through the whole path: POST /api/v1/runs with a different preset per variation,
 * the runner running the shipped example command agent (runwatch.presets.jsonc, "echo") next
 * to the demo agent, and what a viewer and GET /api/v1/runs/<id> then see.
 */
import { execFileSync } from "node:child_process";
import path from "node:path";
import type { EventSourceMessage } from "eventsource-parser";
import { afterAll, describe, expect, it } from "vitest";
import { GET as presetsRoute } from "@/app/api/v1/presets/route";
import { GET as getRun } from "@/app/api/v1/runs/[runId]/route";
import { POST as createRun } from "@/app/api/v1/runs/route";
import { agentsIdle } from "@/lib/orchestrator";
import { openStream, setupTestRedis } from "../support/helpers";

process.env.RUNWATCH_PRESETS_FILE = path.join(process.cwd(), "runwatch.presets.jsonc");
setupTestRedis();
afterAll(() => agentsIdle(30_000));

const post = (body: unknown) => createRun(new Request("http://localhost/api/v1/runs", { method: "POST", body: JSON.stringify(body), headers: { "Content-Type": "application/json" } }));
const data = (e: EventSourceMessage) => JSON.parse(e.data) as { variation_id: string; content?: string; level?: string; error?: string; exit_code?: number };

describe("runs mixing presets", () => {
  it("GET /api/v1/presets lists the demo and the file's presets, without their env", async () => {
    const response = presetsRoute(new Request("http://localhost/api/v1/presets"));
    const { presets } = (await response.json()) as { presets: { name: string; kind: string; transport: string }[] };
    expect(presets.map((p) => p.name)).toEqual(["demo", "echo", "echo-http", "demo-http"]);
    expect(presets.find((p) => p.name === "echo")).toEqual({ name: "echo", description: expect.any(String), kind: "command", transport: "redis" });
    expect(JSON.stringify(presets)).not.toMatch(/env|ANTHROPIC/);
  });

  it("an echo and a demo variation side by side: the command's stdout is the output, its stderr the logs", async () => {
    const prompt = "Add a health check endpoint";
    const response = await post({ prompt, agents: ["echo", "demo"] });
    expect(response.status).toBe(202);
    const { run_id: runId, agent_token } = (await response.json()) as { run_id: string; agent_token: string };
    expect(agent_token).toMatch(new RegExp(`^rwa_${runId}\\.[A-Za-z0-9_-]{43}$`));
    const { reader } = await openStream(runId);
    await reader!.waitForEvents(1, (e) => e.event === "run_complete", 30_000);

    const expected = execFileSync(process.execPath, ["examples/echo-agent.mjs", "--prompt", prompt], { encoding: "utf8" });
    const output = reader!.events.filter((e) => e.event === "agent_output" && data(e).variation_id === "var-1").map((e) => data(e).content).join("");
    expect(output).toBe(expected);
    const logs = reader!.events.filter((e) => e.event === "agent_log" && data(e).variation_id === "var-1").map(data);
    expect(logs.length).toBeGreaterThan(0);
    expect(logs.some((l) => l.level === "warn")).toBe(true);
    expect(reader!.events.filter((e) => e.event === "agent_output" && data(e).variation_id === "var-2").length).toBeGreaterThan(10);

    const run = (await (await getRun(new Request("http://localhost/x"), { params: Promise.resolve({ runId }) })).json()) as { variations: { variation_id: string; agent: string; status: string }[] };
    expect(run.variations).toEqual([
      { variation_id: "var-1", agent: "echo", status: "completed" },
      { variation_id: "var-2", agent: "demo", status: "completed" },
    ]);
  });

  it("a prompt that looks like a flag reaches the command as the prompt, not as a flag", async () => {
    const prompt = "--fail-with 3";
    const response = await post({ prompt, agents: ["echo"] });
    const { run_id: runId } = (await response.json()) as { run_id: string };
    const { reader } = await openStream(runId);
    const [complete] = await reader!.waitForEvents(1, (e) => e.event === "run_complete", 30_000);
    expect(JSON.parse(complete!.data).statuses).toEqual({ "var-1": "completed" });
    const output = reader!.events.filter((e) => e.event === "agent_output").map((e) => data(e).content).join("");
    expect(output).toBe(execFileSync(process.execPath, ["examples/echo-agent.mjs", `--prompt=${prompt}`], { encoding: "utf8" }));
  });

  it("an unknown preset is a 400 naming the presets there are, and no run is created", async () => {
    const response = await post({ prompt: "x", agents: ["echo", "gpt-9"] });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { message: string } }).error.message).toBe('agent: unknown preset "gpt-9"; known presets: demo, echo, echo-http, demo-http');
  });
});
