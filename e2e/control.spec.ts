import Redis from "ioredis";
import { expect, test } from "@playwright/test";
import { keys } from "../lib/channels";
import { AppServer } from "./support/app-server";

/**
 * Control from the run page: stop one of three variations while the others go on, pause and
 * resume another, then select a winner; and what the page says when an agent never answers.
 */
test.describe("on a server of its own at demo speed 1", () => {
  let server: AppServer;
  test.afterEach(async () => server?.dispose());

  test("stop one variation from the page, pause and resume another, the others complete, select a winner", async ({ page, request }) => {
    test.setTimeout(150_000);
    // Demo speed 1 (a variation takes 10-30 s): at the suite's speed 4 a variation can finish in
    // 2.5 s, and on a loaded machine var-2 once completed before the stop reached it, so the test
    // raced the agent instead of testing the control.
    server = await AppServer.create({ DEMO_AGENT_SPEED: "1" });
    await server.start();
    const baseUrl = server.url;
    const created = await request.post(`${baseUrl}/api/v1/runs`, { data: { prompt: "Stop me from the page", variations: 3 } });
    expect(created.status()).toBe(202);
    const { run_id: runId } = (await created.json()) as { run_id: string };
    await page.goto(`${baseUrl}/runs/${runId}`);
    const pane = (n: number) => page.locator(`[data-testid="variation-pane"][data-variation-id="var-${n}"]`);
    await expect(page.getByTestId("variation-pane")).toHaveCount(3);
    await expect(pane(1).getByTestId("variation-agent")).toHaveText("demo");

    // Pause var-3: "Pausing…" until its agent acknowledges, then the chip says paused.
    await pane(3).getByTestId("pause-variation").click();
    await expect(pane(3).getByTestId("status-chip")).toHaveAttribute("data-status", "paused");
    await expect(pane(3).getByTestId("control-pending")).toHaveCount(0);
    await expect(pane(3).getByTestId("resume-variation")).toBeVisible();

    // Stop var-2.
    await pane(2).getByTestId("stop-variation").click();
    await expect(pane(2).getByTestId("status-chip")).toHaveAttribute("data-status", "stopped");
    await expect(pane(2).getByTestId("stop-variation")).toHaveCount(0); // nothing left to control

    // Paused output stays put while var-1 runs on.
    const pausedChars = await pane(3).getByTestId("char-count").textContent();
    await expect(pane(1).getByTestId("status-chip")).toHaveAttribute("data-status", "completed", { timeout: 60_000 });
    await expect(pane(3).getByTestId("char-count")).toHaveText(pausedChars!);
    await expect(page.getByTestId("run-status")).toHaveAttribute("data-status", "running");
    await expect(page.getByTestId("select-winner").first()).toBeDisabled(); // not before the run is complete

    await pane(3).getByTestId("resume-variation").click();
    await expect(pane(3).getByTestId("status-chip")).toHaveAttribute("data-status", "completed", { timeout: 60_000 });
    await expect(page.getByTestId("run-status")).toHaveAttribute("data-status", "completed");
    await expect(pane(2).getByTestId("status-chip")).toHaveAttribute("data-status", "stopped");

    // The winner: chosen on a pane, shown on the pane, in the header and on the home page.
    await pane(3).getByTestId("select-winner").click();
    await expect(pane(3).getByTestId("winner-badge")).toBeVisible();
    await expect(page.getByTestId("run-winner")).toContainText("var-3");
    await page.goto(`${baseUrl}/`);
    await expect(page.getByTestId("runs-list").locator(`a[href="/runs/${runId}"]`).getByTestId("run-winner")).toContainText("var-3");
  });
});

test("an agent that never answers: the page marks it unresponsive and says the pause was not acknowledged", async ({ page }) => {
  const server = await AppServer.create({ CONTROL_ACK_TIMEOUT_MS: "2000", AGENT_HEARTBEAT_TTL_SECONDS: "2" });
  const redis = new Redis(server.redisUrl);
  try {
    await server.start();
    // A run whose agent is gone (as after a crash nobody saw): no heartbeat, no answers.
    const runId = "run-s1l3nt4g3nt0";
    await redis.hset(keys.runMeta(runId), { prompt: "silent", agent: "demo", agents: "demo", variations: "var-1", created_at: new Date(Date.now() - 60_000).toISOString(), ttl_seconds: 3600, stream_maxlen: 1000 });
    await page.goto(`${server.url}/runs/${runId}`);
    await expect(page.getByTestId("unresponsive")).toBeVisible();
    await page.getByTestId("pause-variation").click();
    await expect(page.getByTestId("control-pending")).toHaveText("Pausing…");
    await expect(page.getByTestId("control-failure")).toContainText('var-1 did not acknowledge "pause" within 2 s');
    await expect(page.getByTestId("control-pending")).toHaveCount(0);
  } finally {
    await redis.quit();
    await server.dispose();
  }
});
