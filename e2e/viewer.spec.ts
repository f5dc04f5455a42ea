import fs from "node:fs";
import { createParser } from "eventsource-parser";
import { expect, test, type Page } from "@playwright/test";

/** The run's output per variation, as the API streams it (a finished run's stream ends by itself). */
async function outputsFromApi(baseURL: string, runId: string): Promise<Record<string, string>> {
  const response = await fetch(`${baseURL}/api/v1/runs/${runId}/stream/redis`);
  const outputs: Record<string, string> = {};
  const parser = createParser({
    onEvent: (e) => {
      if (e.event !== "agent_output") return;
      const data = JSON.parse(e.data) as { variation_id: string; content: string };
      outputs[data.variation_id] = (outputs[data.variation_id] ?? "") + data.content;
    },
  });
  parser.feed(await response.text());
  return outputs;
}

async function startRun(page: Page, prompt: string): Promise<string> {
  const created = await page.request.post("/api/v1/runs", { data: { prompt, variations: 1 } });
  const { run_id: runId } = (await created.json()) as { run_id: string };
  await page.goto(`/runs/${runId}`);
  return runId;
}

test("follow mode: scrolling up stops following and counts what arrives; Jump to latest follows again", async ({ page }) => {
  // A narrow pane makes the answer overflow sooner.
  await page.setViewportSize({ width: 390, height: 844 });
  await startRun(page, "Explain follow mode in a log viewer");
  const output = page.getByTestId("variation-output");
  await expect(output).toHaveAttribute("data-following", "true");
  await expect.poll(() => output.evaluate((el) => el.scrollHeight - el.clientHeight), { timeout: 30_000 }).toBeGreaterThan(150);

  // The reader scrolls up to read: following stops, and the position is theirs.
  await output.evaluate((el) => el.scrollTo({ top: 0 }));
  await expect(output).toHaveAttribute("data-following", "false");
  const jump = page.getByTestId("jump-to-latest");
  await expect(jump).toHaveText(/^Jump to latest \(\d+ new\)$/, { timeout: 30_000 });
  expect(await output.evaluate((el) => el.scrollTop)).toBe(0); // new text did not steal the scroll

  await jump.click();
  await expect(output).toHaveAttribute("data-following", "true");
  await expect(page.getByTestId("jump-to-latest")).toHaveCount(0);
  expect(await output.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight)).toBeLessThan(48);
});

test("download a variation's output and logs; the files hold exactly what the agent sent", async ({ page, baseURL }) => {
  const runId = await startRun(page, "Write a short note about downloads");
  await expect(page.getByTestId("run-status")).toHaveAttribute("data-status", "completed", { timeout: 60_000 });

  const [outputDownload] = await Promise.all([page.waitForEvent("download"), page.getByTestId("download-output").click()]);
  expect(outputDownload.suggestedFilename()).toBe(`${runId}-var-1.md`);
  const expected = (await outputsFromApi(baseURL!, runId))["var-1"];
  expect(expected?.length).toBeGreaterThan(100);
  expect(fs.readFileSync((await outputDownload.path())!, "utf8")).toBe(expected);

  const [logsDownload] = await Promise.all([page.waitForEvent("download"), page.getByTestId("download-logs").click()]);
  expect(logsDownload.suggestedFilename()).toBe(`${runId}-var-1.log`);
  const lines = fs.readFileSync((await logsDownload.path())!, "utf8").trimEnd().split("\n");
  expect(lines).toHaveLength(await page.getByTestId("log-line").count());
  for (const line of lines) expect(line).toMatch(/^\d{4}-\d\d-\d\dT\S+ (DEBUG|INFO|WARN|ERROR) \S/);
});
