import fs from "node:fs";
import path from "node:path";
import { expect, test, type Page } from "@playwright/test";

const DATA_DIR = path.join(process.cwd(), ".data"); // where `npm start` (the web server) keeps agent logs

/** Characters of output each variation printed, from its stdout log. */
function outputLength(runId: string, variationId: string): number {
  const lines = fs.readFileSync(path.join(DATA_DIR, "logs", runId, `${variationId}.jsonl`), "utf8").split("\n").filter(Boolean);
  return lines.map((l) => JSON.parse(l) as { type: string; content: unknown }).filter((m) => m.type === "output").reduce((n, m) => n + String(m.content).length, 0);
}

async function startRun(page: Page, variations: number): Promise<string> {
  const response = await page.request.post("/api/v1/runs", { data: { prompt: "Durable history", variations } });
  expect(response.status()).toBe(202);
  return ((await response.json()) as { run_id: string }).run_id;
}

async function expectFullOutput(page: Page, runId: string, variationIds: string[]) {
  const panes = page.getByTestId("variation-pane");
  for (const [i, id] of variationIds.entries()) {
    await expect(panes.nth(i).getByTestId("char-count")).toHaveText(`${outputLength(runId, id).toLocaleString("en")} chars`);
  }
  await expect(page.getByTestId("sequence-gap")).toHaveCount(0);
}

test("a run page opened after the run completed shows every variation's full output", async ({ page }) => {
  const runId = await startRun(page, 2);
  await expect.poll(async () => ((await (await page.request.get(`/api/v1/runs/${runId}`)).json()) as { status: string }).status, { timeout: 60_000 }).toBe("completed");
  await page.goto(`/runs/${runId}`);
  await expect(page.getByTestId("run-status")).toHaveAttribute("data-status", "completed");
  await expect(page.getByTestId("connection-indicator")).toHaveAttribute("data-state", "closed");
  await expectFullOutput(page, runId, ["var-1", "var-2"]);
});

test("reloading a run page mid-run shows no duplicated text", async ({ page }) => {
  const runId = await startRun(page, 2);
  await page.goto(`/runs/${runId}`);
  await expect(page.getByTestId("variation-pane").first().getByTestId("char-count")).not.toHaveText("0 chars");
  await page.reload();
  await expect(page.getByTestId("run-status")).toHaveAttribute("data-status", "completed", { timeout: 60_000 });
  await expectFullOutput(page, runId, ["var-1", "var-2"]);
});
